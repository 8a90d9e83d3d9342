"""Companies, sourcing and order line import/export (orders/resources.py)."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from admin_customisations.importing.exporting import write_export
from admin_customisations.importing.resource import resource_for
from fixtures.accounts import ensure_demo_accounts
from orders.choices import PurchaseOrderStatus, SalesOrderStatus
from orders.models import (
    Address,
    Company,
    Contact,
    ManufacturerPart,
    PurchaseOrderLine,
    SalesOrderLine,
    SupplierPart,
    SupplierPriceBreak,
)
from orders.services.purchase import purchase_order_add_line
from orders.services.sales import sales_order_add_line
from tests import factories
from tests.importing.engine_support import csv_text, import_file, messages, validate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(db):
    supplier = factories.SupplierFactory(name="DigiKey", currency="USD")
    maker = factories.ManufacturerFactory(name="Texas Instruments")
    customer = factories.CompanyFactory(name="GreenRoof", is_customer=True, is_supplier=False)
    part = factories.PartFactory(ipn="U-11", name="Buck converter")
    product = factories.PartFactory(ipn="PR-1", name="Sensor node", salable=True)
    goods_in = factories.StockLocationFactory(name="Goods in")
    return {
        "supplier": supplier,
        "maker": maker,
        "customer": customer,
        "part": part,
        "product": product,
        "goods_in": goods_in,
    }


def export_csv(user, name) -> str:
    resource = resource_for(name)
    out = io.BytesIO()
    write_export(resource, resource.queryset(user), resource.headers(), "csv", out)
    return out.getvalue().decode("utf-8-sig")


def assert_round_trip(user, name, expected_rows):
    """Export → import: every row unchanged, and no history row written (no-op rows)."""
    model = resource_for(name).model
    history = model.history.count()
    text = export_csv(user, name)
    assert len(text.splitlines()) == expected_rows + 1, text
    run = import_file(user, name, text, filename="export.csv")
    assert run.status == "committed", messages(run)
    assert (run.new_count, run.updated_count, run.unchanged_count) == (0, 0, expected_rows)
    assert model.history.count() == history


# ---------------------------------------------------------------- companies


COMPANY_HEADERS = ["Name", "Website", "Currency", "Supplier", "Customer", "Manufacturer"]


def test_companies_import_update_by_name_and_round_trip(superuser):
    text = csv_text(
        COMPANY_HEADERS,
        [
            ["Farnell", "https://www.farnell.com", "gbp", "TRUE", "FALSE", ""],
            ["Yageo", "", "", "FALSE", "", "TRUE"],
        ],
    )
    run = import_file(superuser, "companies", text)
    assert run.status == "committed", messages(run)
    farnell = Company.objects.get(name="Farnell")
    assert (farnell.currency, farnell.is_supplier, farnell.is_manufacturer) == ("GBP", True, False)
    yageo = Company.objects.get(name="Yageo")
    assert (yageo.currency, yageo.is_supplier, yageo.is_manufacturer) == ("EUR", False, True)
    assert farnell.history.get().history_change_reason == (
        f"Imported from upload.csv (import #{run.pk})"
    )
    # by name, any case; a blank flag or currency leaves the company's as it is
    update = csv_text(["Name", "Phone", "Currency", "Supplier"], [["FARNELL", "+44 1", "", ""]])
    run = import_file(superuser, "companies", update)
    assert (run.new_count, run.updated_count) == (0, 1), messages(run)
    farnell.refresh_from_db()
    assert (farnell.name, farnell.phone, farnell.currency, farnell.is_supplier) == (
        "Farnell",
        "+44 1",
        "GBP",
        True,
    )
    assert_round_trip(superuser, "companies", 2)


def test_company_errors_are_sentences_and_nothing_is_imported(superuser):
    text = csv_text(
        ["Name", "Currency", "Supplier"],
        [["Farnell", "GBP", "TRUE"], ["Mouser", "EURO", "perhaps"], ["", "EUR", ""]],
    )
    run = import_file(superuser, "companies", text)
    assert run.status == "invalid"
    assert messages(run) == [
        "row 3, column Currency: 'EURO' is too long: 4 characters, at most 3 allowed.",
        "row 3, column Supplier: 'perhaps' is not TRUE or FALSE (also accepted: yes/no, 1/0).",
        "row 4, column Name: This column is required (it identifies the row).",
    ]
    assert not Company.objects.exists()


def test_contacts_by_company_and_name(superuser, world):
    text = csv_text(
        ["Company", "Name", "Role", "Email"],
        [["digikey", "Order desk", "Sales", "orders@example.com"]],
    )
    run = import_file(superuser, "contacts", text)
    assert run.status == "committed", messages(run)
    contact = Contact.objects.get()
    assert (contact.company, contact.role) == (world["supplier"], "Sales")
    again = csv_text(["Company", "Name", "Role"], [["DigiKey", "Order desk", "Support"]])
    assert import_file(superuser, "contacts", again).updated_count == 1
    assert Contact.objects.get().role == "Support"
    missing = csv_text(["Company", "Name"], [["Digikee", "Someone"]])
    run = import_file(superuser, "contacts", missing)
    assert messages(run) == [
        "row 2, column Company: 'Digikee' does not exist — did you mean 'DigiKey'?"
    ]
    assert_round_trip(superuser, "contacts", 1)


def test_addresses_keep_one_primary_per_company(superuser, world):
    headers = ["Company", "Title", "Primary", "Address line 1", "City"]
    first = csv_text(headers, [["DigiKey", "Head office", "", "1 Main St", "Thief River Falls"]])
    run = import_file(superuser, "addresses", first)
    assert run.status == "committed", messages(run)
    assert Address.objects.get().primary  # a company's first address becomes primary
    second = csv_text(headers, [["DigiKey", "Warehouse", "TRUE", "2 Dock Rd", "Fargo"]])
    assert import_file(superuser, "addresses", second).status == "committed"
    primary = {a.title: a.primary for a in Address.objects.all()}
    assert primary == {"Head office": False, "Warehouse": True}
    both = csv_text(
        headers,
        [
            ["DigiKey", "Head office", "TRUE", "1 Main St", ""],
            ["DigiKey", "Warehouse", "TRUE", "2 Dock Rd", ""],
        ],
    )
    run = import_file(superuser, "addresses", both)
    assert messages(run) == [
        "row 3, column Primary: DigiKey can have only one primary address: rows 2 and 3 are "
        "both marked primary."
    ]
    assert_round_trip(superuser, "addresses", 2)


# ---------------------------------------------------------------- sourcing


def test_manufacturer_parts_and_supplier_parts(superuser, world):
    mp_text = csv_text(
        ["Manufacturer", "MPN", "Part IPN", "Description"],
        [["Texas Instruments", "TPS62162DSGR", "U-11", "Buck 1 A"]],
    )
    run = import_file(superuser, "manufacturer_parts", mp_text)
    assert run.status == "committed", messages(run)
    mp = ManufacturerPart.objects.get()
    assert (mp.part, mp.manufacturer) == (world["part"], world["maker"])
    sp_text = csv_text(
        ["Supplier", "SKU", "Part IPN", "Manufacturer", "MPN", "Pack quantity", "Lead time (days)"],
        [["DigiKey", "296-1-ND", "U-11", "Texas Instruments", "TPS62162DSGR", "10", "5"]],
    )
    run = import_file(superuser, "supplier_parts", sp_text)
    assert run.status == "committed", messages(run)
    sp = SupplierPart.objects.get()
    assert (sp.part, sp.manufacturer_part, sp.pack_quantity, sp.lead_time_days) == (
        world["part"],
        mp,
        10,
        5,
    )
    change = csv_text(
        ["Supplier", "SKU", "Part IPN", "Pack quantity"], [["DigiKey", "296-1-nd", "U-11", "20"]]
    )
    run = import_file(superuser, "supplier_parts", change)
    assert (run.new_count, run.updated_count) == (0, 1), messages(run)
    sp.refresh_from_db()
    assert (sp.pack_quantity, sp.manufacturer_part) == (20, mp)
    assert_round_trip(superuser, "manufacturer_parts", 1)
    assert_round_trip(superuser, "supplier_parts", 1)


def test_sourcing_rules_are_checked_per_row(superuser, world):
    world["part"].purchaseable = False
    world["part"].save()
    text = csv_text(
        ["Supplier", "SKU", "Part IPN"],
        [["DigiKey", "A-1", "U-11"], ["Texas Instruments", "B-2", "PR-1"]],
    )
    run = import_file(superuser, "supplier_parts", text)
    assert messages(run) == [
        "row 2, column Part IPN: 'U-11 | Buck converter' is not purchaseable: mark it "
        "purchaseable first.",
        "row 3, column Supplier: Texas Instruments is not marked as a supplier.",
    ]
    assert not SupplierPart.objects.exists()
    mp_text = csv_text(["Manufacturer", "MPN", "Part IPN"], [["DigiKey", "X-1", "PR-1"]])
    run = import_file(superuser, "manufacturer_parts", mp_text)
    assert messages(run) == ["row 2, column Manufacturer: DigiKey is not marked as a manufacturer."]


def test_price_breaks_by_supplier_sku_and_quantity(superuser, world):
    sp = factories.SupplierPartFactory(supplier=world["supplier"], part=world["part"], sku="296-1")
    text = csv_text(
        ["Supplier", "SKU", "Quantity", "Price", "Currency"],
        [["DigiKey", "296-1", "1", "1.85", ""], ["DigiKey", "296-1", "100", "1.12", "eur"]],
    )
    run = import_file(superuser, "price_breaks", text)
    assert run.status == "committed", messages(run)
    breaks = {pb.quantity: (pb.price, pb.currency) for pb in sp.price_breaks.all()}
    assert breaks == {1: (Decimal("1.85"), "USD"), 100: (Decimal("1.12"), "EUR")}
    update = csv_text(
        ["Supplier", "SKU", "Quantity", "Price"], [["DigiKey", "296-1", "1.0", "1.7"]]
    )
    run = import_file(superuser, "price_breaks", update)
    assert (run.new_count, run.updated_count) == (0, 1), messages(run)
    assert sp.price_breaks.get(quantity=1).price == Decimal("1.7")
    missing = csv_text(["Supplier", "SKU", "Quantity", "Price"], [["DigiKey", "297-1", "1", "2"]])
    assert messages(import_file(superuser, "price_breaks", missing)) == [
        "row 2, column SKU: SKU '297-1' of DigiKey does not exist."
    ]
    assert_round_trip(superuser, "price_breaks", 2)
    assert SupplierPriceBreak.objects.count() == 2


# ---------------------------------------------------------------- order lines


PO_HEADERS = ["Order", "Supplier SKU", "Part IPN", "Quantity", "Unit price", "Receive into"]


@pytest.fixture
def purchase(world, superuser):
    sp = factories.SupplierPartFactory(supplier=world["supplier"], part=world["part"], sku="296-1")
    factories.SupplierPriceBreakFactory(supplier_part=sp, quantity=1, price="1.5", currency="USD")
    order = factories.PurchaseOrderFactory(supplier=world["supplier"], currency="")
    order.refresh_from_db()
    return {"order": order, "sp": sp}


def test_purchase_order_lines_through_the_services(superuser, world, purchase):
    order = purchase["order"]
    text = csv_text(
        PO_HEADERS,
        [
            [order.reference, "296-1", "", "4", "", "Goods in"],
            [order.reference.lower(), "", "U-11", "2", "1.2", ""],
        ],
    )
    # the same SKU twice is two lines only with different line references
    run = import_file(superuser, "purchase_order_lines", text)
    assert messages(run) == [
        "row 3, column Supplier SKU: Rows 2 and 3 both mean the line of DigiKey 296-1 on "
        f"{order.reference}: give each line its own Reference."
    ]
    text = csv_text(
        [*PO_HEADERS, "Reference"],
        [
            [order.reference, "296-1", "", "4", "", "Goods in", ""],
            [order.reference.lower(), "", "U-11", "2", "1.2", "", "spare"],
        ],
    )
    run = import_file(superuser, "purchase_order_lines", text)
    assert run.status == "committed", messages(run)
    lines = {line.reference: line for line in order.lines.all()}
    assert lines[""].quantity == 4 and lines[""].unit_price == Decimal("1.5")  # price break
    assert lines[""].destination == world["goods_in"]
    assert lines["spare"].unit_price == Decimal("1.2")
    assert lines[""].history.get().history_change_reason == (
        f"Imported from upload.csv (import #{run.pk})"
    )
    change = csv_text(["Order", "Supplier SKU", "Quantity"], [[order.reference, "296-1", "6"]])
    run = import_file(superuser, "purchase_order_lines", change)
    assert (run.new_count, run.updated_count) == (0, 1), messages(run)
    lines[""].refresh_from_db()
    assert (lines[""].quantity, lines[""].unit_price) == (6, Decimal("1.5"))
    assert_round_trip(superuser, "purchase_order_lines", 2)


def test_purchase_order_line_rows_name_their_problems(superuser, world, purchase):
    order = purchase["order"]
    other = factories.SupplierFactory(name="Mouser")
    factories.SupplierPartFactory(supplier=other, part=world["part"], sku="M-1")
    text = csv_text(
        PO_HEADERS,
        [
            [order.reference, "M-1", "", "1", "", ""],
            ["PO-9999", "296-1", "", "1", "", ""],
            [order.reference, "296-1", "", "0", "", ""],
        ],
    )
    run = import_file(superuser, "purchase_order_lines", text)
    assert messages(run) == [
        "row 2, column Supplier SKU: SKU 'M-1' of DigiKey does not exist.",
        "row 3, column Order: 'PO-9999' does not exist.",
        "row 4, column Quantity: Quantity must be greater than zero.",
    ]
    assert not PurchaseOrderLine.objects.exists()


def test_order_lines_into_a_closed_order_are_refused(superuser, world, purchase):
    order = purchase["order"]
    purchase_order_add_line(order=order, supplier_part=purchase["sp"], quantity=1, user=superuser)
    type(order).objects.filter(pk=order.pk).update(status=PurchaseOrderStatus.COMPLETE)
    # re-importing the closed order's lines as they are is harmless
    assert_round_trip(superuser, "purchase_order_lines", 1)
    text = csv_text(
        ["Order", "Supplier SKU", "Quantity", "Reference"],
        [[order.reference, "296-1", "5", ""], [order.reference, "296-1", "1", "extra"]],
    )
    run = import_file(superuser, "purchase_order_lines", text)
    assert run.status == "invalid"
    assert messages(run) == [
        f"row {n}, column Order: {order.reference} is Complete: lines can be added or changed "
        "only while the order is open."
        for n in (2, 3)
    ]
    assert order.lines.get().quantity == 1

    sales = factories.SalesOrderFactory(customer=world["customer"])
    type(sales).objects.filter(pk=sales.pk).update(status=SalesOrderStatus.CANCELLED)
    text = csv_text(["Order", "Part IPN", "Quantity"], [[sales.reference, "PR-1", "1"]])
    run = import_file(superuser, "sales_order_lines", text)
    assert messages(run) == [
        f"row 2, column Order: {sales.reference} is Cancelled: lines can be added or changed "
        "only while the order is open."
    ]
    assert not SalesOrderLine.objects.exists()


def test_sales_order_lines_through_the_services(superuser, world):
    order = factories.SalesOrderFactory(customer=world["customer"])
    text = csv_text(
        ["Order", "Part IPN", "Quantity", "Unit price", "Notes"],
        [
            [order.reference, "PR-1", "10", "149", "Pilot batch"],
            [order.reference, "U-11", "1", "", ""],
        ],
    )
    run = import_file(superuser, "sales_order_lines", text)
    assert messages(run) == [
        "row 3, column Part IPN: 'U-11 | Buck converter' is not a salable physical part."
    ]
    run = import_file(superuser, "sales_order_lines", csv_text(
        ["Order", "Part IPN", "Quantity", "Unit price", "Notes"],
        [[order.reference, "PR-1", "10", "149", "Pilot batch"]],
    ))  # fmt: skip
    assert run.status == "committed", messages(run)
    line = order.lines.get()
    assert (line.quantity, line.unit_price, line.notes) == (10, 149, "Pilot batch")
    change = csv_text(["Order", "Part IPN", "Quantity"], [[order.reference, "pr-1", "12"]])
    run = import_file(superuser, "sales_order_lines", change)
    assert (run.new_count, run.updated_count) == (0, 1), messages(run)
    line.refresh_from_db()
    assert (line.quantity, line.unit_price) == (12, 149)
    sales_order_add_line(
        order=order, part=world["product"], quantity=1, user=superuser, reference="B"
    )
    assert_round_trip(superuser, "sales_order_lines", 2)


# ---------------------------------------------------------------- permissions


ORDER_RESOURCES = [
    "companies",
    "contacts",
    "addresses",
    "manufacturer_parts",
    "supplier_parts",
    "price_breaks",
    "purchase_order_lines",
    "sales_order_lines",
]


@pytest.mark.parametrize("username", ["engineer", "reader"])
@pytest.mark.parametrize("name", ORDER_RESOURCES)
def test_engineers_and_readers_may_not_import_companies_sourcing_or_orders(username, name):
    ensure_demo_accounts()
    user = User.objects.get(username=username)
    resource = resource_for(name)
    assert not resource.may_import(user)
    headers = [c.header for c in resource.columns if c.required] or resource.headers()[:1]
    run, _ = validate(user, name, csv_text(headers, [["x"] * len(headers)]))
    assert run.status == "invalid"
    assert messages(run)[0].startswith(f"file: You may not import {resource.get_title().lower()}")


def test_all_access_may_import_order_lines(world):
    ensure_demo_accounts()
    user = User.objects.get(username="allaccess")
    for name in ORDER_RESOURCES:
        assert resource_for(name).may_import(user), name


@pytest.mark.parametrize(
    ("example", "name"),
    [(n, n) for n in ORDER_RESOURCES]
    + [("bom_lines", "bom_lines"), ("bom_designators", "bom_lines")],
)
def test_example_files_have_the_resources_columns(example, name):
    from django.conf import settings

    from admin_customisations.importing.engine import match_headers

    path = settings.BASE_DIR / "fixtures" / "examples" / f"{example}.csv"
    headers = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    resource = resource_for(name)
    resource = resource.for_headers(headers) if hasattr(resource, "for_headers") else resource
    mapping, problems = match_headers(resource, headers)
    assert problems == []
    assert len(mapping) == len(headers)


def test_an_order_closed_between_preview_and_confirm_fails_the_import(superuser, purchase):
    from admin_customisations.importing import engine

    order = purchase["order"]
    text = csv_text(["Order", "Supplier SKU", "Quantity"], [[order.reference, "296-1", "3"]])
    run, _ = validate(superuser, "purchase_order_lines", text)
    assert run.status == "valid", messages(run)
    type(order).objects.filter(pk=order.pk).update(status=PurchaseOrderStatus.CANCELLED)
    engine.commit(run)
    run.refresh_from_db()
    assert run.status == "failed"
    assert messages(run) == [
        f"row 2, column Order: {order.reference} is Cancelled: lines can be added or changed "
        "only while the order is open."
    ]
    assert not PurchaseOrderLine.objects.exists()


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("bom_lines", "builds_bomitem"),
        ("companies", "orders_company"),
        ("contacts", "orders_contact"),
        ("addresses", "orders_address"),
        ("manufacturer_parts", "orders_manufacturerpart"),
        ("supplier_parts", "orders_supplierpart"),
        ("price_breaks", "orders_supplierpart"),
        ("purchase_order_lines", "orders_purchaseorder"),
        ("sales_order_lines", "orders_salesorder"),
    ],
)
def test_import_page_and_template_of_each_resource(admin_client_root, name, host):
    from django.conf import settings
    from django.urls import reverse

    resource = resource_for(name)
    query = (
        "" if resource.model._meta.label_lower.replace(".", "_") == host else f"?resource={name}"
    )
    page = admin_client_root.get(reverse(f"admin:{host}_import") + query)
    assert page.status_code == 200
    template = admin_client_root.get(reverse(f"admin:{host}_import_template", args=["csv"]) + query)
    assert template.status_code == 200
    body = b"".join(template.streaming_content) if template.streaming else template.content
    example = (settings.BASE_DIR / "fixtures" / "examples" / f"{name}.csv").read_text()
    assert body.decode("utf-8-sig").splitlines()[0] == example.splitlines()[0]
