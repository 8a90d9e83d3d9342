"""Inventory admin pages: content, filters, create/edit through services, tree navigation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.choices import StockHistoryCode, StockStatus
from inventory.models import Part, PartCategory, StockItem
from inventory.services.stock import stock_item_create, stock_item_move
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    electronics = factories.PartCategoryFactory(name="Electronics")
    passives = factories.PartCategoryFactory(name="Passives", parent=electronics)
    resistors = factories.PartCategoryFactory(name="Resistors", parent=passives)
    mechanical = factories.PartCategoryFactory(name="Mechanical")
    return electronics, passives, resistors, mechanical


def changelist_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.context["cl"].result_list


def test_part_list_shows_path_stock_and_low_badge(admin_client_root, tree):
    location = factories.StockLocationFactory()
    part = factories.PartFactory(name="R 10k", ipn="R-10K", category=tree[2], minimum_stock=50)
    factories.StockItemFactory(part=part, quantity=20, location=location)
    factories.StockItemFactory(
        part=part, quantity=5, location=location, status=StockStatus.DESTROYED
    )
    content = admin_client_root.get("/admin/inventory/part/").content.decode()
    assert "Electronics/Passives/Resistors" in content
    assert "20 (low)" in content


def test_part_and_stock_list_cells_are_compact(admin_client_root, tree):
    """The list layout (docs/stock.md): paths wrap after each "/", the type flags are short
    chips with their meaning as a tooltip, stock notes sit under the badge."""
    location = factories.StockLocationFactory(
        name="Bin 4", parent=factories.StockLocationFactory(name="Shelf")
    )
    part = factories.PartFactory(name="R 10k", category=tree[2], purchaseable=True, component=True)
    factories.StockItemFactory(part=part, quantity=20, location=location)
    content = admin_client_root.get("/admin/inventory/part/").content.decode()
    assert (
        '<span class="list-path" title="Electronics/Passives/Resistors">'
        '<span class="text-base-500">Electronics/<wbr>Passives/<wbr></span>Resistors</span>'
    ) in content
    assert (
        '<span class="list-chip" title="Purchaseable: bought from suppliers">buy</span>' in content
    )
    assert (
        '<span class="list-chip" title="Component: can be used in the BOM of an assembly">component</span>'
        in content
    )
    assert "list-note" not in content  # nothing allocated or on order: no notes
    content = admin_client_root.get("/admin/inventory/stockitem/").content.decode()
    assert '<span class="text-base-500">Shelf/<wbr></span>Bin 4</span>' in content


def test_part_filters(admin_client_root, tree):
    location = factories.StockLocationFactory()
    resistor = factories.PartFactory(category=tree[2], minimum_stock=10)
    factories.StockItemFactory(part=resistor, quantity=3, location=location)
    screw = factories.PartFactory(category=tree[3])
    assert list(
        changelist_rows(admin_client_root, f"/admin/inventory/part/?category={tree[0].pk}")
    ) == [resistor]
    assert list(changelist_rows(admin_client_root, "/admin/inventory/part/?low_stock=yes")) == [
        resistor
    ]
    assert list(changelist_rows(admin_client_root, "/admin/inventory/part/?has_stock=no")) == [
        screw
    ]


def test_part_search_by_ipn_and_keywords(admin_client_root):
    wanted = factories.PartFactory(ipn="CAP-100", keywords="ceramic smd")
    factories.PartFactory(ipn="RES-200")
    assert list(changelist_rows(admin_client_root, "/admin/inventory/part/?q=cap-100")) == [wanted]
    assert list(changelist_rows(admin_client_root, "/admin/inventory/part/?q=ceramic")) == [wanted]


def test_part_change_page_has_parameters_and_stock_summary(admin_client_root):
    parameter = factories.PartParameterFactory(data="4.7")
    factories.StockItemFactory(part=parameter.part, quantity=8)
    content = admin_client_root.get(
        f"/admin/inventory/part/{parameter.part.pk}/change/"
    ).content.decode()
    assert "4.7" in content
    assert "8 in stock in 1 items" in content


def test_part_parameter_outside_choices_is_refused_on_the_form(admin_client_root):
    template = factories.PartParameterTemplateFactory(
        name="Package", units="", choices="0603, 0805"
    )
    part = factories.PartFactory()
    data = {
        "name": part.name,
        "ipn": part.ipn,
        "revision": "",
        "description": "",
        "keywords": "",
        "category": part.category_id,
        "link": "",
        "units": "",
        "minimum_stock": "0",
        "default_expiry": "0",
        "component": "on",
        "purchaseable": "on",
        "active": "on",
        "notes": "",
        "parameters-TOTAL_FORMS": "1",
        "parameters-INITIAL_FORMS": "0",
        "parameters-0-template": template.pk,
        "parameters-0-data": "1206",
    }
    response = admin_client_root.post(f"/admin/inventory/part/{part.pk}/change/", data)
    assert response.status_code == 200
    assert "is not one of the allowed values: 0603, 0805" in response.content.decode()
    assert not part.parameters.exists()


def test_category_page_has_breadcrumbs_children_and_counts(admin_client_root, tree):
    factories.PartFactory(category=tree[2])
    factories.PartFactory(category=tree[1])
    content = admin_client_root.get(
        f"/admin/inventory/partcategory/{tree[1].pk}/change/"
    ).content.decode()
    assert f'/admin/inventory/partcategory/{tree[0].pk}/change/">Electronics</a>' in content
    assert "Resistors</a> (1 parts)" in content
    rows = {
        c.name: c.part_count
        for c in changelist_rows(admin_client_root, "/admin/inventory/partcategory/")
    }
    assert rows == {"Electronics": 2, "Passives": 2, "Resistors": 1, "Mechanical": 0}


def test_deleting_a_category_in_the_admin_moves_parts_up(admin_client_root, tree):
    part = factories.PartFactory(category=tree[2])
    response = admin_client_root.post(
        f"/admin/inventory/partcategory/{tree[2].pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    part.refresh_from_db()
    assert part.category == tree[1]
    assert not PartCategory.objects.filter(pk=tree[2].pk).exists()


def test_create_stock_in_the_admin_goes_through_the_service(admin_client_root):
    location = factories.StockLocationFactory()
    part = factories.PartFactory(trackable=True)
    response = admin_client_root.post(
        "/admin/inventory/stockitem/add/",
        {
            "part": part.pk,
            "quantity": "3",
            "location": location.pk,
            "serials": "1-3",
            "status": StockStatus.OK,
            "delete_on_deplete": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    items = StockItem.objects.filter(part=part).order_by("serial")
    assert [i.serial for i in items] == ["1", "2", "3"]
    assert all(i.tracking.filter(tracking_type=StockHistoryCode.CREATED).exists() for i in items)


def test_create_stock_with_wrong_serial_count_shows_the_error(admin_client_root):
    part = factories.PartFactory(trackable=True)
    response = admin_client_root.post(
        "/admin/inventory/stockitem/add/",
        {"part": part.pk, "quantity": "3", "serials": "1-2", "status": StockStatus.OK},
    )
    assert response.status_code == 200
    assert (
        "The expression gives 2 serial numbers but the quantity is 3." in response.content.decode()
    )
    assert not StockItem.objects.exists()


def test_create_stock_for_virtual_part_is_refused(admin_client_root):
    part = factories.PartFactory(virtual=True)
    response = admin_client_root.post(
        "/admin/inventory/stockitem/add/",
        {"part": part.pk, "quantity": "1", "status": StockStatus.OK},
    )
    assert response.status_code == 200
    assert "is virtual: it cannot hold stock." in response.content.decode()
    assert not StockItem.objects.exists()


def test_editing_details_records_an_edited_entry(admin_client_root):
    item = factories.StockItemFactory(quantity=Decimal(4))
    response = admin_client_root.post(
        f"/admin/inventory/stockitem/{item.pk}/change/",
        {
            "batch": "B-7",
            "expiry_date": "",
            "purchase_price": "",
            "purchase_price_currency": "",
            "notes": "",
            "delete_on_deplete": "on",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.batch == "B-7"
    entry = item.tracking.get(tracking_type=StockHistoryCode.EDITED)
    assert entry.deltas == {"batch": "B-7"}
    assert item.history.first().history_change_reason == "Edited: batch"


def test_change_page_shows_timeline_newest_first_with_links(admin_client_root, superuser):
    a = factories.StockLocationFactory(name="Dock")
    b = factories.StockLocationFactory(name="Shelf")
    item = stock_item_create(part=factories.PartFactory(), quantity=5, location=a, user=superuser)[
        0
    ]
    stock_item_move(item=item, location=b, user=superuser, notes="tidy up")
    content = admin_client_root.get(
        f"/admin/inventory/stockitem/{item.pk}/change/"
    ).content.decode()
    moved, created = content.index("Location changed"), content.index("Stock item created")
    assert moved < created
    assert f'/admin/inventory/stocklocation/{b.pk}/change/">Shelf</a>' in content
    assert "tidy up" in content


def test_stock_filters(admin_client_root):
    top = factories.StockLocationFactory(name="Store")
    inner = factories.StockLocationFactory(name="Bin", parent=top)
    elsewhere = factories.StockLocationFactory(name="Elsewhere")
    trackable = factories.PartFactory(trackable=True)
    in_bin = factories.StockItemFactory(location=inner, quantity=2)
    serial = factories.StockItemFactory(part=trackable, location=elsewhere, quantity=1, serial="9")
    expired = factories.StockItemFactory(
        location=elsewhere, expiry_date=timezone.localdate() - timedelta(days=1)
    )
    lost = factories.StockItemFactory(location=elsewhere, status=StockStatus.LOST)
    url = "/admin/inventory/stockitem/"
    assert list(changelist_rows(admin_client_root, f"{url}?location={top.pk}")) == [in_bin]
    assert list(changelist_rows(admin_client_root, f"{url}?serialized=yes")) == [serial]
    assert list(changelist_rows(admin_client_root, f"{url}?expired=yes")) == [expired]
    assert list(changelist_rows(admin_client_root, f"{url}?in_stock=no")) == [lost]
    assert set(changelist_rows(admin_client_root, f"{url}?q=9")) >= {serial}


def test_tracking_admin_is_read_only(admin_client_root):
    entry = factories.StockItemTrackingFactory()
    assert admin_client_root.get("/admin/inventory/stockitemtracking/add/").status_code == 403
    response = admin_client_root.post(
        f"/admin/inventory/stockitemtracking/{entry.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Part.objects.exists()


def test_locked_part_parameters_cannot_be_deleted_in_the_admin(admin_client_root):
    parameter = factories.PartParameterFactory(data="10")
    part = parameter.part
    part.locked = True
    part.save()
    content = admin_client_root.get(f"/admin/inventory/part/{part.pk}/change/").content.decode()
    assert 'name="parameters-0-DELETE"' not in content
    assert "10" in content
