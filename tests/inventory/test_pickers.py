"""Pickers offer only valid choices (admin_customisations.pickers): the autocomplete
endpoint and the form field agree, and a forged id is a field error that changes nothing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from builds.models import BuildItem
from builds.selectors.bom import valid_allocation_part_ids  # noqa: F401  (documented rule)
from inventory.admin.locations import StockLocationAdmin  # noqa: F401
from inventory.admin.parameters import PartParameterForm
from inventory.choices import StockStatus
from inventory.models import StockItem
from orders.admin.returns import RETURN_LINE_PICKER
from orders.admin.sales_actions import SALES_ALLOCATION_PICKER, AllocateForm
from orders.models import SalesOrderAllocation
from orders.services import returns as return_services
from orders.services import sales as services
from tests import factories
from tests.builds.test_build_support import shop_fixture, user_fixture  # noqa: F401
from tests.orders.test_sales_services import sales_state

pytestmark = pytest.mark.django_db

PICKER_URL = "/admin/inventory/stockitem/picker/"


def picked(client, picker, scope, source, field, term=""):
    app, model = source
    response = client.get(
        PICKER_URL,
        {
            "picker": picker,
            "scope": scope,
            "app_label": app,
            "model_name": model,
            "field_name": field,
            "term": term,
        },
    )
    assert response.status_code == 200
    return {int(r["id"]): r["text"] for r in response.json()["results"]}


# ---------------------------------------------------------------- sales order allocation


@pytest.fixture
def sale():
    customer = factories.CompanyFactory(name="ACME", is_customer=True)
    order = services.sales_order_create(customer=customer, user=None)
    template = factories.PartFactory(name="Resistor 10k", salable=True, is_template=True)
    variant = factories.PartFactory(name="Resistor 10k 1%", salable=True, variant_of=template)
    other = factories.PartFactory(name="Capacitor", salable=True)
    line = services.sales_order_add_line(order=order, part=template, quantity=10, user=None)
    shelf = factories.StockLocationFactory(
        name="B-3", parent=factories.StockLocationFactory(name="Shelf A")
    )
    return {
        "order": order,
        "line": line,
        "own": factories.StockItemFactory(part=template, quantity=120, location=shelf, batch="X"),
        "variant": factories.StockItemFactory(part=variant, quantity=5, location=shelf),
        "other_part": factories.StockItemFactory(part=other, quantity=50, location=shelf),
        "damaged_out": factories.StockItemFactory(
            part=template, quantity=5, location=shelf, status=StockStatus.DESTROYED
        ),
        "empty": factories.StockItemFactory(part=template, quantity=0, location=shelf),
        "with_customer": factories.StockItemFactory(part=template, quantity=3, customer=customer),
    }


def test_sales_allocation_queryset_offers_only_in_stock_items_of_the_orders_parts(sale):
    form = AllocateForm(obj=sale["order"])
    offered = set(form.fields["item"].queryset.values_list("pk", flat=True))
    assert offered == {sale["own"].pk, sale["variant"].pk}


def test_sales_allocation_leaves_out_fully_allocated_items(sale):
    services.sales_order_allocate(line=sale["line"], item=sale["variant"], quantity=5, user=None)
    offered = SALES_ALLOCATION_PICKER.restrict(StockItem.objects.all(), str(sale["order"].pk))
    assert set(offered.values_list("pk", flat=True)) == {sale["own"].pk}


def test_sales_allocation_autocomplete_is_filtered_and_labelled(admin_client_root, sale):
    found = picked(
        admin_client_root,
        "sales_allocation",
        sale["order"].pk,
        ("orders", "salesorderallocation"),
        "item",
    )
    assert set(found) == {sale["own"].pk, sale["variant"].pk}
    assert found[sale["own"].pk] == "Resistor 10k · Shelf A/B-3 · 120 available (batch X)"
    # the allocate page's widget asks this endpoint, for this order
    page = admin_client_root.get(f"/admin/orders/salesorder/{sale['order'].pk}/allocate/")
    assert (
        f"{PICKER_URL}?picker=sales_allocation&amp;scope={sale['order'].pk}"
        in page.content.decode()
    )


def test_autocomplete_scope_junk_offers_nothing(admin_client_root, sale):
    assert (
        picked(
            admin_client_root, "sales_allocation", "abc", ("orders", "salesorderallocation"), "item"
        )
        == {}
    )


def test_picker_endpoint_answers_404_for_an_unknown_picker(admin_client_root):
    response = admin_client_root.get(
        PICKER_URL,
        {
            "picker": "nope",
            "app_label": "orders",
            "model_name": "salesorderallocation",
            "field_name": "item",
        },
    )
    assert response.status_code == 404


def test_picker_endpoint_needs_view_permission(client, sale):
    client.force_login(factories.UserFactory(is_staff=True))
    response = client.get(
        PICKER_URL,
        {
            "picker": "sales_allocation",
            "scope": sale["order"].pk,
            "app_label": "orders",
            "model_name": "salesorderallocation",
            "field_name": "item",
        },
    )
    assert response.status_code == 403


def test_forged_sales_allocation_of_another_part_is_a_field_error(admin_client_root, sale):
    before = sales_state()
    response = admin_client_root.post(
        f"/admin/orders/salesorder/{sale['order'].pk}/allocate/",
        {"apply": "1", "line": sale["line"].pk, "item": sale["other_part"].pk, "quantity": "1"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "item" in errors and "one of this order's parts" in errors["item"][0]
    assert sales_state() == before
    assert not SalesOrderAllocation.objects.exists()


# ---------------------------------------------------------------- build allocation


def test_build_allocation_offers_components_substitutes_and_source_location(
    admin_client_root, shop
):
    substitute = factories.PartFactory(name="Resistor alt")
    shop.line_resistor.substitutes.create(part=substitute)
    build = shop.build(10, take_from=shop.store)
    alt = shop.stock(substitute, 10)
    elsewhere = shop.stock(shop.resistor, 10, location=shop.elsewhere)
    unrelated = shop.stock(factories.PartFactory(name="Nut"), 10)
    found = picked(
        admin_client_root, "build_allocation", build.pk, ("builds", "builditem"), "stock_item"
    )
    assert set(found) == {shop.resistors.pk, shop.screws.pk, alt.pk}
    assert elsewhere.pk not in found and unrelated.pk not in found  # outside take_from / no line
    assert found[shop.resistors.pk] == "Resistor · Store/Shelf · 100 available"


def test_forged_build_allocation_is_refused_and_changes_nothing(admin_client_root, shop):
    build = shop.build(10)
    unrelated = shop.stock(factories.PartFactory(name="Nut"), 10)
    line = shop.line(build, shop.resistor)
    response = admin_client_root.post(
        f"/admin/builds/buildorder/{build.pk}/allocate-stock/",
        {"apply": "1", "line": line.pk, "stock_item": unrelated.pk, "quantity": "1"},
    )
    assert response.status_code == 200
    assert "stock_item" in response.context["form"].errors
    assert not BuildItem.objects.exists()


# ---------------------------------------------------------------- return order lines


def test_return_line_picker_offers_only_the_customers_items(admin_client_root):
    customer = factories.CompanyFactory(name="ACME", is_customer=True)
    someone_else = factories.CompanyFactory(name="Other", is_customer=True)
    order = return_services.return_order_create(customer=customer, user=None)
    theirs = factories.StockItemFactory(customer=customer, quantity=1)
    others = factories.StockItemFactory(customer=someone_else, quantity=1)
    ours = factories.StockItemFactory(quantity=5)
    offered = RETURN_LINE_PICKER.restrict(StockItem.objects.all(), str(order.pk))
    assert set(offered.values_list("pk", flat=True)) == {theirs.pk}
    found = picked(
        admin_client_root, "return_line", order.pk, ("orders", "returnorderline"), "item"
    )
    assert set(found) == {theirs.pk}
    assert others.pk not in found and ours.pk not in found
    page = admin_client_root.get(reverse("admin:orders_returnorder_change", args=[order.pk]))
    assert "picker=return_line" in page.content.decode()


# ---------------------------------------------------------------- locations


def _location_autocomplete(client, model, field):
    app = {"stockitem": "inventory", "buildorder": "builds"}[model]
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": app, "model_name": model, "field_name": field, "term": ""},
    )
    assert response.status_code == 200
    return {int(r["id"]) for r in response.json()["results"]}


def test_structural_locations_are_not_offered_where_stock_goes(admin_client_root):
    warehouse = factories.StockLocationFactory(name="Warehouse", structural=True)
    bin_ = factories.StockLocationFactory(name="Bin 1", parent=warehouse)
    assert _location_autocomplete(admin_client_root, "stockitem", "location") == {bin_.pk}
    assert _location_autocomplete(admin_client_root, "buildorder", "destination") == {bin_.pk}
    # a build's source may be a whole structural subtree
    assert _location_autocomplete(admin_client_root, "buildorder", "take_from") == {
        warehouse.pk,
        bin_.pk,
    }


def test_forged_move_into_a_structural_location_is_a_field_error(admin_client_root):
    warehouse = factories.StockLocationFactory(name="Warehouse", structural=True)
    item = factories.StockItemFactory(quantity=Decimal(3))
    before = item.location_id
    response = admin_client_root.post(
        f"/admin/inventory/stockitem/{item.pk}/move-stock/",
        {"apply": "1", "location": warehouse.pk, "quantity": "", "notes": ""},
    )
    assert response.status_code == 200
    assert "not structural" in response.context["form"].errors["location"][0]
    item.refresh_from_db()
    assert item.location_id == before


# ---------------------------------------------------------------- parameter values


def test_parameter_with_choices_is_a_select():
    template = factories.PartParameterTemplateFactory(name="Package", choices="0402, 0603, 0805")
    value = factories.PartParameterFactory(template=template, data="0603")
    form = PartParameterForm(instance=value)
    html = str(form["data"])
    assert "<select" in html and '<option value="0805">' in html
    assert 'value="0603" selected' in html


def test_parameter_without_choices_stays_a_text_field():
    value = factories.PartParameterFactory(
        template=factories.PartParameterTemplateFactory(name="Resistance", choices=""), data="10k"
    )
    assert "<select" not in str(PartParameterForm(instance=value)["data"])
