"""Company, contact, address, manufacturer part and supplier part admins: tabs, the
one-primary-address rule through the forms, sourcing rules shown on the forms, autocomplete."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.admin.sourcing_inlines import PartManufacturerPartInline, PartSupplierPartInline
from orders.models import Address, ManufacturerPart, SupplierPart, SupplierPriceBreak
from tests import factories

pytestmark = pytest.mark.django_db

INLINES = ["contacts", "addresses", "supplied_parts", "manufactured_parts", "purchase_orders"]


def company_data(company, **extra):
    data = {
        "name": company.name,
        "currency": company.currency,
        "is_supplier": "on" if company.is_supplier else "",
        "active": "on",
    }
    for prefix in (
        "contacts",
        "addresses",
        "supplied_parts",
        "manufactured_parts",
        "purchase_orders",
    ):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data.update(extra)
    return data


def address_rows(company, rows):
    """Formset data for the company's addresses (existing first, in pk order) + new rows."""
    existing = list(Address.objects.filter(company=company).order_by("pk"))
    data = {
        "addresses-TOTAL_FORMS": str(len(rows)),
        "addresses-INITIAL_FORMS": str(len(existing)),
    }
    for i, row in enumerate(rows):
        if i < len(existing):
            data[f"addresses-{i}-id"] = existing[i].pk
            data[f"addresses-{i}-company"] = company.pk
        data[f"addresses-{i}-title"] = row["title"]
        data[f"addresses-{i}-line1"] = "1 Road"
        if row.get("primary"):
            data[f"addresses-{i}-primary"] = "on"
    return data


@pytest.fixture
def supplier():
    return factories.SupplierFactory(name="Mouser")


def change(company):
    return reverse("admin:orders_company_change", args=[company.pk])


def test_company_page_has_the_tabs(admin_client_root, supplier):
    factories.ContactFactory(company=supplier, name="Jane Buyer")
    factories.AddressFactory(company=supplier, title="Head office", primary=True)
    factories.SupplierPartFactory(supplier=supplier, sku="R10K")
    factories.PurchaseOrderFactory(supplier=supplier)
    content = admin_client_root.get(change(supplier)).content.decode()
    for tab in INLINES:
        assert f"activeTab = '{tab}'" in content
    for text in ("Jane Buyer", "Head office", "R10K", "PO-0001"):
        assert text in content


def test_company_list_shows_counts(admin_client_root, supplier):
    factories.SupplierPartFactory.create_batch(2, supplier=supplier)
    factories.PurchaseOrderFactory(supplier=supplier)
    content = admin_client_root.get(reverse("admin:orders_company_changelist")).content.decode()
    assert f'?supplier__id__exact={supplier.pk}">2</a>' in content  # supplier parts
    assert f'/admin/orders/purchaseorder/?supplier__id__exact={supplier.pk}">1</a>' in content


def test_first_address_added_in_the_tab_becomes_primary(admin_client_root, supplier):
    data = company_data(supplier, **address_rows(supplier, [{"title": "HQ"}]))
    response = admin_client_root.post(change(supplier), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Address.objects.get(company=supplier).primary


def test_moving_primary_in_the_tab(admin_client_root, supplier):
    factories.AddressFactory(company=supplier, title="HQ", primary=True)
    factories.AddressFactory(company=supplier, title="Depot")
    rows = [{"title": "HQ"}, {"title": "Depot", "primary": True}]
    response = admin_client_root.post(
        change(supplier), company_data(supplier, **address_rows(supplier, rows))
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(Address.objects.filter(primary=True).values_list("title", flat=True)) == ["Depot"]


def test_two_primaries_in_the_tab_are_refused(admin_client_root, supplier):
    factories.AddressFactory(company=supplier, title="HQ", primary=True)
    rows = [{"title": "HQ", "primary": True}, {"title": "Depot", "primary": True}]
    response = admin_client_root.post(
        change(supplier), company_data(supplier, **address_rows(supplier, rows))
    )
    assert response.status_code == 200
    assert "Only one address can be primary" in response.content.decode()
    assert list(Address.objects.values_list("title", "primary")) == [("HQ", True)]


def test_address_admin_marking_primary_unmarks_the_other(admin_client_root, supplier):
    factories.AddressFactory(company=supplier, title="HQ", primary=True)
    response = admin_client_root.post(
        reverse("admin:orders_address_add"),
        {"company": supplier.pk, "title": "Depot", "line1": "2 Road", "primary": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(Address.objects.filter(primary=True).values_list("title", flat=True)) == ["Depot"]


def test_address_admin_delete_promotes_the_next(admin_client_root, supplier):
    hq = factories.AddressFactory(company=supplier, title="HQ", primary=True)
    factories.AddressFactory(company=supplier, title="Depot")
    response = admin_client_root.post(
        reverse("admin:orders_address_delete", args=[hq.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert list(Address.objects.values_list("title", "primary")) == [("Depot", True)]


def supplier_part_data(**values):
    data = {
        "sku": "SKU-1",
        "pack_quantity": "1",
        "active": "on",
        "price_breaks-TOTAL_FORMS": "0",
        "price_breaks-INITIAL_FORMS": "0",
    }
    data.update(values)
    return data


def test_supplier_part_with_price_breaks(admin_client_root, supplier):
    part = factories.PartFactory()
    data = supplier_part_data(
        part=part.pk,
        supplier=supplier.pk,
        pack_quantity="100",
        **{
            "price_breaks-TOTAL_FORMS": "2",
            "price_breaks-0-quantity": "1",
            "price_breaks-0-price": "12.50",
            "price_breaks-0-currency": "EUR",
            "price_breaks-1-quantity": "10",
            "price_breaks-1-price": "11",
            "price_breaks-1-currency": "EUR",
        },
    )
    response = admin_client_root.post(reverse("admin:orders_supplierpart_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    sp = SupplierPart.objects.get()
    assert sp.pack_quantity == 100
    assert list(sp.price_breaks.values_list("quantity", "price")) == [
        (1, Decimal("12.5")),
        (10, Decimal(11)),
    ]
    content = admin_client_root.get(
        reverse("admin:orders_supplierpart_changelist")
    ).content.decode()
    assert "1+: 12.5 EUR · 10+: 11 EUR" in content


def test_supplier_part_with_manufacturer_part_of_another_part_is_refused(
    admin_client_root, supplier
):
    part = factories.PartFactory(name="Bolt")
    other = factories.ManufacturerPartFactory(mpn="NUT-1")
    data = supplier_part_data(part=part.pk, supplier=supplier.pk, manufacturer_part=other.pk)
    response = admin_client_root.post(reverse("admin:orders_supplierpart_add"), data)
    assert response.status_code == 200
    assert f"is a manufacturer part of &#x27;{other.part}&#x27;, not of &#x27;{part}&#x27;." in (
        response.content.decode()
    )
    assert not SupplierPart.objects.exists()
    assert not SupplierPriceBreak.objects.exists()


def test_supplier_part_needs_a_supplier_company(admin_client_root):
    shop = factories.CompanyFactory(name="Shop", is_supplier=False)
    data = supplier_part_data(part=factories.PartFactory().pk, supplier=shop.pk)
    response = admin_client_root.post(reverse("admin:orders_supplierpart_add"), data)
    assert response.status_code == 200
    assert not SupplierPart.objects.exists()


def test_manufacturer_part_admin(admin_client_root):
    maker = factories.ManufacturerFactory(name="Yageo")
    part = factories.PartFactory()
    response = admin_client_root.post(
        reverse("admin:orders_manufacturerpart_add"),
        {"part": part.pk, "manufacturer": maker.pk, "mpn": "RC0603"},
    )
    assert response.status_code == 302
    assert str(ManufacturerPart.objects.get()) == "Yageo RC0603"


def autocomplete(client, app, model, field, term=""):
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": app, "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200
    return sorted(r["text"] for r in json.loads(response.content)["results"])


def test_autocomplete_offers_only_matching_companies(admin_client_root, supplier):
    factories.CompanyFactory(name="Retail Ltd", is_supplier=False, is_customer=True)
    factories.ManufacturerFactory(name="Yageo")
    assert autocomplete(admin_client_root, "orders", "purchaseorder", "supplier") == ["Mouser"]
    assert autocomplete(admin_client_root, "orders", "manufacturerpart", "manufacturer") == [
        "Yageo"
    ]


def test_autocomplete_for_contacts_addresses_and_supplier_parts(admin_client_root, supplier):
    factories.ContactFactory(company=supplier, name="Jane")
    factories.AddressFactory(company=supplier, title="HQ")
    factories.SupplierPartFactory(supplier=supplier, sku="R10K")
    assert autocomplete(admin_client_root, "orders", "purchaseorder", "contact", "Mouser") == [
        "Jane (Mouser)"
    ]
    assert autocomplete(admin_client_root, "orders", "purchaseorder", "address", "HQ") == [
        "Mouser: HQ"
    ]
    assert autocomplete(
        admin_client_root, "orders", "purchaseorderline", "supplier_part", "R10K"
    ) == ["Mouser R10K"]


@pytest.fixture
def part_admin_with_sourcing():
    """The registered part admin, which carries the sourcing inlines as tabs."""
    from django.contrib import admin

    from inventory.models import Part

    model_admin = admin.site._registry[Part]
    assert PartSupplierPartInline in model_admin.inlines
    assert PartManufacturerPartInline in model_admin.inlines
    return model_admin


def part_post(part, **extra):
    data = {
        "name": part.name,
        "ipn": part.ipn,
        "category": part.category_id,
        "minimum_stock": "0",
        "default_expiry": "0",
        "purchaseable": "on" if part.purchaseable else "",
        "active": "on",
    }
    for prefix in ("parameters", "bom_items", "supplier_parts", "manufacturer_parts"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data.update(extra)
    return data


def test_part_inlines_show_and_save_sourcing(rf, superuser, supplier, part_admin_with_sourcing):
    from django.contrib.messages.storage.fallback import FallbackStorage

    def post(data):
        request = rf.post("/", data)
        request.user = superuser
        request.session = {}
        request._messages = FallbackStorage(request)
        request._dont_enforce_csrf_checks = True
        return request

    part = factories.PartFactory(name="Resistor")
    factories.SupplierPartFactory(part=part, supplier=supplier, sku="R-OLD")
    request = rf.get("/")
    request.user = superuser
    response = part_admin_with_sourcing.change_view(request, str(part.pk))
    response.render()
    content = response.content.decode()
    assert "activeTab = 'supplier_parts'" in content
    assert "activeTab = 'manufacturer_parts'" in content
    assert "R-OLD" in content

    maker = factories.ManufacturerFactory(name="Yageo")
    data = part_post(
        part,
        **{
            "supplier_parts-TOTAL_FORMS": "1",
            "supplier_parts-0-supplier": supplier.pk,
            "supplier_parts-0-sku": "R-NEW",
            "supplier_parts-0-pack_quantity": "0",
            "supplier_parts-0-active": "on",
            "manufacturer_parts-TOTAL_FORMS": "1",
            "manufacturer_parts-0-manufacturer": maker.pk,
            "manufacturer_parts-0-mpn": "RC0603",
        },
    )
    data["supplier_parts-INITIAL_FORMS"] = "0"
    request = post(data)
    response = part_admin_with_sourcing.change_view(request, str(part.pk))
    response.render()
    assert "Pack quantity must be greater than zero." in response.content.decode()
    assert not SupplierPart.objects.filter(sku="R-NEW").exists()
    assert not ManufacturerPart.objects.exists()

    data["supplier_parts-0-pack_quantity"] = "10"
    request = post(data)
    response = part_admin_with_sourcing.change_view(request, str(part.pk))
    assert response.status_code == 302
    assert SupplierPart.objects.get(sku="R-NEW").pack_quantity == 10
    assert str(ManufacturerPart.objects.get(part=part)) == "Yageo RC0603"


def test_new_price_breaks_default_to_the_supplier_currency(admin_client_root):
    sp = factories.SupplierPartFactory(supplier=factories.SupplierFactory(currency="USD"))
    content = admin_client_root.get(
        reverse("admin:orders_supplierpart_change", args=[sp.pk])
    ).content.decode()
    assert 'name="price_breaks-__prefix__-currency" value="USD"' in content


def test_customer_page_has_sales_and_return_order_tabs(admin_client_root):
    customer = factories.CompanyFactory(name="Buyer", is_supplier=False, is_customer=True)
    order = factories.SalesOrderFactory(customer=customer)
    rma = factories.ReturnOrderFactory(customer=customer)
    content = admin_client_root.get(f"/admin/orders/company/{customer.pk}/change/").content.decode()
    assert order.reference in content and rma.reference in content
    assert "activeTab = 'purchase_orders'" not in content  # not a supplier: no purchase-order tab
