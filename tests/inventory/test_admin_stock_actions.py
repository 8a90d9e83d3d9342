"""Stock item admin actions: intermediate form, success, and refusals that change nothing."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from inventory.choices import StockHistoryCode, StockStatus
from inventory.models import StockItem, StockItemTracking
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/inventory/stockitem/"


def run_action(client, action, items, query="", **fields):
    """Post ``action`` for ``items`` from the stock list (filtered by ``query``: the list hides
    items with a customer or installed unless its state filter shows them)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(i.pk) for i in items], "index": "0"}
    if fields:
        data["apply"] = "1"
        data.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
    return client.post(CHANGELIST + query, data)


def snapshot():
    return (
        list(
            StockItem.objects.order_by("pk").values_list(
                "pk", "quantity", "location_id", "status", "serial"
            )
        ),
        StockItemTracking.objects.count(),
        StockItem.history.count(),
    )


@pytest.fixture
def places():
    return factories.StockLocationFactory(name="Shelf A"), factories.StockLocationFactory(
        name="Shelf B"
    )


@pytest.fixture
def item(places):
    return factories.StockItemFactory(quantity=Decimal(10), location=places[0])


ACTIONS = [
    "add_stock",
    "remove_stock",
    "count_stock",
    "move_stock",
    "split_stock",
    "merge_stock",
    "serialize_stock",
    "change_status",
    "assign_to_customer",
    "return_from_customer",
    "install_into",
    "uninstall",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_shows_its_form_first(admin_client_root, item, action):
    response = run_action(admin_client_root, action, [item])
    if action == "merge_stock":  # needs two items: refused with a message, nothing rendered
        assert response.status_code == 302
        return
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="apply"' in content
    assert str(item) in content
    assert f'value="{action}"' in content


def test_move_partial_quantity_splits_and_moves(admin_client_root, item, places):
    response = run_action(
        admin_client_root, "move_stock", [item], location=places[1].pk, quantity=4, notes="restock"
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.quantity == 6 and item.location == places[0]
    moved = StockItem.objects.get(parent=item)
    assert moved.quantity == 4 and moved.location == places[1]
    move = moved.tracking.get(tracking_type=StockHistoryCode.STOCK_MOVE)
    assert move.notes == "restock"
    assert move.user.username == "root"
    assert moved.history.first().history_user.username == "root"


def test_move_too_much_is_refused_inline_and_changes_nothing(admin_client_root, item, places):
    before = snapshot()
    response = run_action(
        admin_client_root, "move_stock", [item], location=places[1].pk, quantity=11
    )
    assert response.status_code == 200
    assert "Only 10 in this item: cannot move 11." in response.content.decode()
    assert snapshot() == before


def test_refusal_for_one_item_rolls_back_the_whole_selection(admin_client_root, places):
    good = factories.StockItemFactory(quantity=Decimal(50), location=places[0])
    small = factories.StockItemFactory(quantity=Decimal(2), location=places[0])
    before = snapshot()
    response = run_action(admin_client_root, "remove_stock", [good, small], quantity=5)
    assert response.status_code == 200
    assert f"{small}: Only 2 in this item: cannot take 5." in response.content.decode()
    assert snapshot() == before


def test_add_remove_and_count(admin_client_root, item):
    run_action(admin_client_root, "add_stock", [item], quantity="2.5")
    item.refresh_from_db()
    assert item.quantity == Decimal("12.5")
    run_action(admin_client_root, "remove_stock", [item], quantity="0.5")
    item.refresh_from_db()
    assert item.quantity == 12
    run_action(admin_client_root, "count_stock", [item], quantity=9, status=StockStatus.ATTENTION)
    item.refresh_from_db()
    assert (item.quantity, item.status) == (9, StockStatus.ATTENTION)
    assert item.stocktake_user.username == "root"
    codes = list(item.tracking.order_by("pk").values_list("tracking_type", flat=True))
    assert codes[-3:] == [
        StockHistoryCode.STOCK_ADD,
        StockHistoryCode.STOCK_REMOVE,
        StockHistoryCode.STOCK_COUNT,
    ]


def test_count_refuses_negative_with_field_error(admin_client_root, item):
    before = snapshot()
    response = run_action(admin_client_root, "count_stock", [item], quantity=-1)
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0" in response.content.decode()
    assert snapshot() == before


def test_non_numeric_quantity_is_a_form_error(admin_client_root, item):
    before = snapshot()
    response = run_action(admin_client_root, "add_stock", [item], quantity="lots")
    assert "Enter a number." in response.content.decode()
    assert snapshot() == before


def test_split_action(admin_client_root, item, places):
    run_action(admin_client_root, "split_stock", [item], quantity=3, location=places[1].pk)
    item.refresh_from_db()
    child = StockItem.objects.get(parent=item)
    assert (item.quantity, child.quantity, child.location) == (7, 3, places[1])


def test_merge_action(admin_client_root, places):
    part = factories.PartFactory()
    items = [
        factories.StockItemFactory(part=part, quantity=q, location=places[0]) for q in (10, 20, 30)
    ]
    response = run_action(admin_client_root, "merge_stock", items, location=places[1].pk)
    assert response.status_code == 302
    merged = StockItem.objects.get(part=part)
    assert merged.quantity == 60 and merged.location == places[1]


def test_merge_of_different_parts_is_refused(admin_client_root, places):
    items = [factories.StockItemFactory(location=places[0]) for _ in range(2)]
    before = snapshot()
    response = run_action(admin_client_root, "merge_stock", items, location="")
    assert "Cannot merge: the items are of different parts." in response.content.decode()
    assert snapshot() == before


def test_merge_needs_two_items(admin_client_root, item):
    response = run_action(admin_client_root, "merge_stock", [item])
    assert response.status_code == 302
    follow = admin_client_root.get(response["Location"])
    assert "Select at least two stock items to merge." in follow.content.decode()


def test_serialize_action(admin_client_root, places):
    part = factories.PartFactory(trackable=True)
    item = factories.StockItemFactory(part=part, quantity=5, location=places[0])
    response = run_action(
        admin_client_root, "serialize_stock", [item], quantity=3, serials="100+", location=""
    )
    assert response.status_code == 302
    assert sorted(
        StockItem.objects.filter(part=part).exclude(serial="").values_list("serial", flat=True)
    ) == [
        "100",
        "101",
        "102",
    ]
    item.refresh_from_db()
    assert item.quantity == 2


def test_serialize_conflict_is_refused(admin_client_root, places):
    part = factories.PartFactory(trackable=True)
    factories.StockItemFactory(part=part, quantity=1, serial="7", location=places[0])
    item = factories.StockItemFactory(part=part, quantity=3, location=places[0])
    before = snapshot()
    response = run_action(
        admin_client_root, "serialize_stock", [item], quantity=3, serials="5-7", location=""
    )
    assert response.status_code == 200
    assert "already in use" in response.content.decode()
    assert snapshot() == before


def test_serialize_needs_exactly_one_item(admin_client_root, places):
    part = factories.PartFactory(trackable=True)
    items = [
        factories.StockItemFactory(part=part, quantity=2, location=places[0]) for _ in range(2)
    ]
    response = run_action(admin_client_root, "serialize_stock", items)
    assert response.status_code == 302
    assert (
        "Select exactly one stock item"
        in admin_client_root.get(response["Location"]).content.decode()
    )


def test_status_customer_and_return(admin_client_root, item, places):
    customer = factories.CompanyFactory(name="Customer Ltd")
    run_action(admin_client_root, "change_status", [item], status=StockStatus.DAMAGED)
    item.refresh_from_db()
    assert item.status == StockStatus.DAMAGED
    run_action(admin_client_root, "assign_to_customer", [item], customer=customer.pk, quantity="")
    item.refresh_from_db()
    assert item.customer == customer and item.location is None
    run_action(
        admin_client_root,
        "return_from_customer",
        [item],
        query="?state=with_customer",
        location=places[1].pk,
    )
    item.refresh_from_db()
    assert item.customer is None and item.location == places[1]


def test_assign_to_non_customer_is_refused(admin_client_root, item):
    supplier = factories.CompanyFactory(name="Only Supplier", is_customer=False)
    before = snapshot()
    response = run_action(admin_client_root, "assign_to_customer", [item], customer=supplier.pk)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert snapshot() == before


def test_install_and_uninstall(admin_client_root, item, places):
    assembly = factories.StockItemFactory(quantity=1, location=places[0])
    run_action(admin_client_root, "install_into", [item], into=assembly.pk, quantity=2)
    installed = StockItem.objects.get(belongs_to=assembly)
    assert installed.quantity == 2
    run_action(
        admin_client_root, "uninstall", [installed], query="?state=installed", location=places[1].pk
    )
    installed.refresh_from_db()
    assert installed.belongs_to is None and installed.location == places[1]


def test_install_into_itself_is_refused(admin_client_root, item):
    before = snapshot()
    response = run_action(admin_client_root, "install_into", [item], into=item.pk)
    assert "cannot be installed in itself" in response.content.decode()
    assert snapshot() == before


def test_move_all_items_from_a_location(admin_client_root, places):
    for _ in range(3):
        factories.StockItemFactory(location=places[0])
    response = admin_client_root.post(
        "/admin/inventory/stocklocation/",
        {
            "action": "move_all_items",
            ACTION_CHECKBOX_NAME: [places[0].pk],
            "apply": "1",
            "destination": places[1].pk,
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert StockItem.objects.filter(location=places[1]).count() == 3
    assert not StockItem.objects.filter(location=places[0]).exists()
