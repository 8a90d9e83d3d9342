"""Stock services: quantities, tracking entries, history, and refusals that change nothing.

Rules R22-R31 and R35 of the InvenTree domain reference, and the services issue.
"""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django import db
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from inventory.choices import StockHistoryCode as H
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from inventory.selectors import parts_with_stock
from inventory.services import stock as stock_services
from inventory.services.stock import (
    stock_item_add,
    stock_item_assign_to_customer,
    stock_item_change_status,
    stock_item_count,
    stock_item_create,
    stock_item_install,
    stock_item_move,
    stock_item_remove,
    stock_item_return_from_customer,
    stock_item_serialize,
    stock_item_split,
    stock_item_uninstall,
    stock_items_merge,
    stock_location_move_items,
)
from tests.factories import (
    CompanyFactory,
    PartCategoryFactory,
    PartFactory,
    StockItemFactory,
    StockLocationFactory,
    UserFactory,
)
from tests.inventory.conftest import D, codes, entries, last_history, reload
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


def history_of(item):
    """(history_type, user, change reason, quantity) of an item's records, oldest first."""
    return [
        (r.history_type, r.history_user, r.history_change_reason, r.quantity)
        for r in StockItem.history.filter(id=item.pk).order_by("history_id")
    ]


def assert_last_history(item, user, reason, history_type="~"):
    record = last_history(StockItem, item.pk)
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        history_type,
        user,
        reason,
    )


def in_stock_total(part) -> Decimal:
    return parts_with_stock().get(pk=part.pk).in_stock


# --- stock_item_create ------------------------------------------------------------------


def test_create_one_item(part, location, user):
    (item,) = stock_item_create(
        part=part, quantity="12.5", location=location, batch="B-7", user=user, notes="Delivery"
    )

    item = reload(item)
    assert (item.part, item.quantity, item.location, item.batch) == (
        part,
        D("12.5"),
        location,
        "B-7",
    )
    assert (item.status, item.serial, item.expiry_date, item.parent) == (
        StockStatus.OK,
        "",
        None,
        None,
    )
    (created,) = entries(item, H.CREATED)
    assert codes(item) == [H.CREATED]
    assert (created.user, created.notes) == (user, "Delivery")
    assert created.deltas == {
        "quantity": "12.5",
        "status": 10,
        "location": location.pk,
        "location_path": "Shelf A",
    }
    assert history_of(item) == [("+", user, "Stock created", D("12.5"))]


def test_create_location_defaults_to_part_then_category(user):
    part_default = StockLocationFactory(name="Part default")
    category_default = StockLocationFactory(name="Category default")
    explicit = StockLocationFactory(name="Explicit")
    category = PartCategoryFactory(default_location=category_default)
    with_own = PartFactory(category=category, default_location=part_default)
    without_own = PartFactory(category=category)
    uncategorised = PartFactory(category=None)

    assert stock_item_create(part=with_own, quantity=1, user=user)[0].location == part_default
    assert stock_item_create(part=without_own, quantity=1, user=user)[0].location == (
        category_default
    )
    assert stock_item_create(part=uncategorised, quantity=1, user=user)[0].location is None
    (item,) = stock_item_create(part=with_own, quantity=1, location=explicit, user=user)
    assert item.location == explicit


def test_create_default_expiry_from_part(user, location):
    part = PartFactory(default_expiry=30)
    today = timezone.localdate()

    (item,) = stock_item_create(part=part, quantity=1, location=location, user=user)
    assert reload(item).expiry_date == today + datetime.timedelta(days=30)

    given = today + datetime.timedelta(days=3)
    (item,) = stock_item_create(
        part=part, quantity=1, location=location, expiry_date=given, user=user
    )
    assert reload(item).expiry_date == given


def test_create_delete_on_deplete_defaults_to_setting(part, location, user, settings):
    settings.STOCK_DELETE_DEPLETED_DEFAULT = True
    (item,) = stock_item_create(part=part, quantity=1, location=location, user=user)
    assert reload(item).delete_on_deplete is True
    settings.STOCK_DELETE_DEPLETED_DEFAULT = False
    (item,) = stock_item_create(part=part, quantity=1, location=location, user=user)
    assert reload(item).delete_on_deplete is False
    (item,) = stock_item_create(
        part=part, quantity=1, location=location, user=user, delete_on_deplete=True
    )
    assert reload(item).delete_on_deplete is True


def test_create_with_serials_makes_one_item_per_serial(trackable_part, location, user):
    items = stock_item_create(
        part=trackable_part, quantity=4, serials="1-3, 10", location=location, user=user
    )

    assert [i.serial for i in items] == ["1", "2", "3", "10"]
    stored = StockItem.objects.filter(part=trackable_part).order_by("serial_int")
    assert [(i.serial, i.serial_int, i.quantity, i.delete_on_deplete) for i in stored] == [
        ("1", 1, 1, False),
        ("2", 2, 1, False),
        ("3", 3, 1, False),
        ("10", 10, 1, False),
    ]
    for item in items:
        (created,) = entries(item, H.CREATED)
        assert created.deltas["quantity"] == "1"
        assert history_of(item) == [("+", user, "Stock created", 1)]


def test_create_next_serial_follows_the_variant_family(location, user):
    template = PartFactory(name="Template", is_template=True, trackable=True)
    sibling = PartFactory(name="Sibling", variant_of=template, trackable=True)
    variant = PartFactory(name="Variant", variant_of=template, trackable=True)
    StockItemFactory(part=sibling, quantity=1, serial="41")

    (item,) = stock_item_create(part=variant, quantity=1, serials="~", location=location, user=user)

    assert item.serial == "42"


def test_create_serial_conflict_in_variant_family_creates_nothing(location, user, refused):
    template = PartFactory(name="Template", is_template=True, trackable=True)
    sibling = PartFactory(name="Sibling", variant_of=template, trackable=True)
    variant = PartFactory(name="Variant", variant_of=template, trackable=True)
    StockItemFactory(part=sibling, quantity=1, serial="2")

    with refused(f"Serial numbers already in use for '{template}': 2."):
        stock_item_create(part=variant, quantity=3, serials="1-3", location=location, user=user)
    with refused("already in use"):
        stock_item_create(part=template, quantity=1, serials="2", location=location, user=user)


def test_create_refusals(part, trackable_part, location, user, refused):
    with refused("is not trackable, so its stock cannot have serial numbers"):
        stock_item_create(part=part, quantity=2, serials="1-2", location=location, user=user)
    with refused("The expression gives 3 serial numbers but the quantity is 2"):
        stock_item_create(
            part=trackable_part, quantity=2, serials="1-3", location=location, user=user
        )
    with refused("is trackable: use a whole number"):
        stock_item_create(part=trackable_part, quantity="1.5", location=location, user=user)
    for bad in (0, -1, "abc", "1.000001", "NaN"):
        with refused():
            stock_item_create(part=part, quantity=bad, location=location, user=user)
    with refused("is not a stock status|not a valid choice"):
        stock_item_create(part=part, quantity=1, status=999, location=location, user=user)


def test_create_refused_for_virtual_and_inactive_parts(location, user, refused):
    virtual, inactive = PartFactory(virtual=True), PartFactory(active=False)

    with refused("is virtual: it cannot hold stock"):
        stock_item_create(part=virtual, quantity=1, location=location, user=user)
    with refused("is inactive"):
        stock_item_create(part=inactive, quantity=1, location=location, user=user)


def test_create_refused_in_structural_location(part, user, refused):
    structural = StockLocationFactory(name="Building", structural=True)
    defaulting = PartFactory(default_location=structural)

    with refused("'Building' is structural"):
        stock_item_create(part=part, quantity=1, location=structural, user=user)
    with refused("'Building' is structural"):
        stock_item_create(part=defaulting, quantity=1, user=user)


# --- stock_item_add ---------------------------------------------------------------------


def test_add(item, user):
    result = stock_item_add(item=item, quantity="5.25", user=user, notes="found more")

    assert reload(item).quantity == D("15.25")
    assert result.quantity == D("15.25")
    (added,) = entries(item, H.STOCK_ADD)
    assert added.deltas == {"added": "5.25", "quantity": "15.25"}
    assert (added.user, added.notes) == (user, "found more")
    assert_last_history(item, user, "Added 5.25")


def test_add_rereads_the_row(item, user):
    StockItem.objects.filter(pk=item.pk).update(quantity=20)  # someone else changed it

    stock_item_add(item=item, quantity=5, user=user)  # ``item`` still says 10

    assert reload(item).quantity == 25


def test_add_refusals(item, trackable_part, location, user, refused):
    serialized = StockItemFactory(part=trackable_part, quantity=1, serial="7")
    batch = StockItemFactory(part=trackable_part, quantity=5)

    with refused("is serialized"):
        stock_item_add(item=serialized, quantity=1, user=user)
    with refused("is trackable: use a whole number"):
        stock_item_add(item=batch, quantity="0.5", user=user)
    for bad in (0, -3, "x"):
        with refused():
            stock_item_add(item=item, quantity=bad, user=user)


def test_quantities_the_column_cannot_hold_are_refused(item, part, location, user, refused):
    with refused("Quantity is too large"):
        stock_item_create(part=part, quantity=10**10, location=location, user=user)
    with refused("Quantity is too large"):
        stock_item_add(item=item, quantity=9_999_999_995, user=user)  # 10 + that overflows

    stock_item_add(item=item, quantity=9_999_999_989, user=user)
    assert reload(item).quantity == 9_999_999_999


# --- stock_item_remove ------------------------------------------------------------------


def test_remove(item, user):
    result = stock_item_remove(item=item, quantity=4, user=user, notes="used")

    assert reload(item).quantity == 6
    assert result.quantity == 6
    (removed,) = entries(item, H.STOCK_REMOVE)
    assert removed.deltas == {"removed": "4", "quantity": "6"}
    assert (removed.user, removed.notes) == (user, "used")
    assert_last_history(item, user, "Removed 4")


def test_over_removal_is_refused(item, user, refused):
    with refused("Only 10 in this item: cannot take 10.5."):
        stock_item_remove(item=item, quantity="10.5", user=user)


def test_depleting_deletes_the_item(item, user):
    pk = item.pk

    assert stock_item_remove(item=item, quantity=10, user=user) is None

    assert not StockItem.objects.filter(pk=pk).exists()
    assert history_of(item)[-2:] == [
        ("~", user, "Removed 10", 0),
        ("-", user, "Removed 10 (depleted)", 0),
    ]
    assert not StockItemTracking.objects.filter(item_id=pk).exists()  # the timeline goes with it


def test_depleting_keeps_the_item_when_configured(part, location, user):
    item = StockItemFactory(part=part, location=location, quantity=3, delete_on_deplete=False)

    result = stock_item_remove(item=item, quantity=3, user=user)

    assert result.pk == item.pk
    item = reload(item)
    assert item.quantity == 0
    assert item.is_in_stock is False
    assert [e.deltas for e in entries(item, H.STOCK_REMOVE)] == [{"removed": "3", "quantity": "0"}]
    assert in_stock_total(part) == 0


def test_depleting_keeps_an_item_with_installed_items(item, part, user):
    StockItemFactory(part=PartFactory(), quantity=1, location=None, belongs_to=item)

    assert stock_item_remove(item=item, quantity=10, user=user).pk == item.pk
    assert reload(item).quantity == 0


def test_remove_refusals(trackable_part, user, refused):
    serialized = StockItemFactory(part=trackable_part, quantity=1, serial="7")
    batch = StockItemFactory(part=trackable_part, quantity=5)

    with refused("is serialized"):
        stock_item_remove(item=serialized, quantity=1, user=user)
    with refused("whole number"):
        stock_item_remove(item=batch, quantity="1.5", user=user)
    with refused("greater than zero"):
        stock_item_remove(item=batch, quantity=0, user=user)


# --- stock_item_count -------------------------------------------------------------------


def test_count(item, user):
    result = stock_item_count(item=item, quantity=7, user=user, notes="cycle count")

    item = reload(item)
    assert result.quantity == item.quantity == 7
    assert item.stocktake_date == timezone.localdate()
    assert item.stocktake_user == user
    assert item.status == StockStatus.OK
    (counted,) = entries(item, H.STOCK_COUNT)
    assert counted.deltas == {"quantity": "7", "previous_quantity": "10"}
    assert (counted.user, counted.notes) == (user, "cycle count")
    assert_last_history(item, user, "Counted 7")


def test_count_with_status(item, user):
    stock_item_count(item=item, quantity=12, status=StockStatus.QUARANTINED, user=user)

    item = reload(item)
    assert (item.quantity, item.status) == (12, StockStatus.QUARANTINED)
    (counted,) = entries(item, H.STOCK_COUNT)
    assert counted.deltas == {
        "quantity": "12",
        "previous_quantity": "10",
        "status": 75,
        "previous_status": 10,
    }


def test_count_with_unchanged_status_records_no_status(item, user):
    stock_item_count(item=item, quantity=10, status="10", user=user)

    (counted,) = entries(item, H.STOCK_COUNT)
    assert counted.deltas == {"quantity": "10", "previous_quantity": "10"}


def test_negative_count_is_refused_without_tracking(item, user, refused):
    with refused("Quantity cannot be negative."):
        stock_item_count(item=item, quantity=-1, user=user)
    assert reload(item).stocktake_date is None


def test_count_with_unknown_status_is_refused(item, user, refused):
    for status in (999, "abc"):
        with refused("is not a stock status"):
            stock_item_count(item=item, quantity=3, status=status, user=user)


def test_count_to_zero_deletes_or_keeps(part, location, user):
    deleting = StockItemFactory(part=part, location=location, quantity=4)
    keeping = StockItemFactory(part=part, location=location, quantity=4, delete_on_deplete=False)

    assert stock_item_count(item=deleting, quantity=0, user=user) is None
    assert stock_item_count(item=keeping, quantity=0, user=user).quantity == 0

    assert reload(deleting) is None
    assert history_of(deleting)[-1] == ("-", user, "Counted 0 (depleted)", 0)
    assert reload(keeping).quantity == 0


def test_count_serialized_item(trackable_part, location, user, refused):
    unit = StockItemFactory(part=trackable_part, location=location, quantity=1, serial="9")

    with refused("is serialized: its count is 1"):
        stock_item_count(item=unit, quantity=0, user=user)
    stock_item_count(item=unit, quantity=1, user=user)
    assert codes(unit) == [H.STOCK_COUNT]


# --- stock_item_move --------------------------------------------------------------------


def test_move_whole_item(item, location, other_location, user):
    result = stock_item_move(item=item, location=other_location, user=user, notes="tidy")

    assert result.pk == item.pk
    assert reload(item).location == other_location
    assert StockItem.objects.count() == 1
    (moved,) = entries(item, H.STOCK_MOVE)
    assert moved.deltas == {
        "location": other_location.pk,
        "location_path": "Shelf B",
        "previous_location": location.pk,
        "previous_location_path": "Shelf A",
    }
    assert (moved.user, moved.notes) == (user, "tidy")
    assert_last_history(item, user, "Moved to Shelf B")


def test_move_of_whole_quantity_does_not_split(item, other_location, user):
    result = stock_item_move(item=item, location=other_location, quantity=10, user=user)

    assert result.pk == item.pk
    assert StockItem.objects.count() == 1
    assert codes(item) == [H.STOCK_MOVE]


def test_partial_move_splits(item, location, other_location, user):
    moved = stock_item_move(item=item, location=other_location, quantity=4, user=user)

    original, moved = reload(item), reload(moved)
    assert (original.quantity, original.location) == (6, location)
    assert (moved.quantity, moved.location, moved.parent) == (4, other_location, original)
    assert codes(original) == [H.SPLIT_CHILD_ITEM]
    assert codes(moved) == [H.SPLIT_FROM_PARENT, H.STOCK_MOVE]
    assert entries(moved, H.STOCK_MOVE)[0].deltas["previous_location"] == location.pk
    assert_last_history(moved, user, "Moved to Shelf B")
    assert_last_history(original, user, "Split off 4")


def test_move_to_same_location_records_update_not_move(item, location, user):
    history_before = StockItem.history.count()

    result = stock_item_move(item=item, location=location, user=user)

    assert result.pk == item.pk
    assert codes(item) == [H.STOCK_UPDATE]
    assert entries(item, H.STOCK_UPDATE)[0].deltas == {
        "location": location.pk,
        "location_path": "Shelf A",
    }
    assert reload(item).location == location
    assert StockItem.history.count() == history_before


def mark_destroyed(item):
    item.status = StockStatus.DESTROYED


def mark_building(item):
    item.is_building = True


def mark_empty(item):
    item.quantity = 0
    item.delete_on_deplete = False


# (items with a customer or installed are refused by the state rule whatever the setting:
# tests/inventory/test_stock_state_rules.py)
NOT_IN_STOCK = [
    (mark_destroyed, "its status is Destroyed"),
    (mark_building, "it is a build output still in production"),
    (mark_empty, "quantity is zero"),
]


@pytest.mark.parametrize(("make", "reason"), NOT_IN_STOCK)
def test_move_refused_when_not_in_stock(item, other_location, user, refused, make, reason):
    make(item)
    item.save()

    with refused(f"is not in stock \\({reason}.*so it cannot be moved"):
        stock_item_move(item=item, location=other_location, user=user)


def test_out_of_stock_transfer_setting_allows_the_move(item, other_location, user, settings):
    item.status = StockStatus.DESTROYED
    item.save()
    settings.STOCK_ALLOW_OUT_OF_STOCK_TRANSFER = True

    stock_item_move(item=item, location=other_location, user=user)

    assert reload(item).location == other_location


def test_move_refusals(item, other_location, user, refused):
    structural = StockLocationFactory(name="Building", structural=True)

    with refused("'Building' is structural"):
        stock_item_move(item=item, location=structural, user=user)
    with refused("Choose a destination location"):
        stock_item_move(item=item, location=None, user=user)
    with refused("Only 10 in this item: cannot move 11."):
        stock_item_move(item=item, location=other_location, quantity=11, user=user)
    with refused("greater than zero"):
        stock_item_move(item=item, location=other_location, quantity=0, user=user)


# --- stock_item_split -------------------------------------------------------------------


def test_split(part, location, user):
    item = StockItemFactory(
        part=part,
        location=location,
        quantity=1234,
        batch="LOT-1",
        status=StockStatus.ATTENTION,
        purchase_price=D("0.25"),
        purchase_price_currency="EUR",
        expiry_date=datetime.date(2031, 1, 1),
    )

    new = stock_item_split(item=item, quantity=1000, user=user, notes="for kitting")

    item, new = reload(item), reload(new)
    assert item.quantity == 234
    assert (new.quantity, new.parent, new.location, new.part) == (1000, item, location, part)
    assert (new.batch, new.status, new.purchase_price, new.purchase_price_currency) == (
        "LOT-1",
        StockStatus.ATTENTION,
        D("0.25"),
        "EUR",
    )
    assert new.expiry_date == datetime.date(2031, 1, 1)
    (from_parent,) = entries(new, H.SPLIT_FROM_PARENT)
    assert from_parent.deltas == {"stockitem": item.pk, "quantity": "1000"}
    (child,) = entries(item, H.SPLIT_CHILD_ITEM)
    assert child.deltas == {"stockitem": new.pk, "removed": "1000", "quantity": "234"}
    assert codes(item) == [H.SPLIT_CHILD_ITEM]
    assert codes(new) == [H.SPLIT_FROM_PARENT]
    assert history_of(new) == [("+", user, f"Split from item {item.pk}", 1000)]
    assert_last_history(item, user, "Split off 1000")
    assert in_stock_total(part) == 1234


def test_split_to_another_location(item, other_location, user):
    new = stock_item_split(item=item, quantity=3, location=other_location, user=user)

    assert reload(new).location == other_location
    assert reload(item).location != other_location


def test_split_refusals(item, trackable_part, user, refused):
    serialized = StockItemFactory(part=trackable_part, quantity=1, serial="1")
    structural = StockLocationFactory(structural=True)

    with refused("is serialized"):
        stock_item_split(item=serialized, quantity=1, user=user)
    for whole_or_more in (10, 11):
        with refused(r"must be less than the item's quantity \(10\)"):
            stock_item_split(item=item, quantity=whole_or_more, user=user)
    for bad in (0, -1):
        with refused():
            stock_item_split(item=item, quantity=bad, user=user)
    with refused("structural"):
        stock_item_split(item=item, quantity=1, location=structural, user=user)


def test_split_of_zero_quantity_item_is_refused(part, location, user, refused):
    empty = StockItemFactory(part=part, location=location, quantity=0, delete_on_deplete=False)

    with refused("must be less than"):
        stock_item_split(item=empty, quantity=1, user=user)


# --- stock_items_merge ------------------------------------------------------------------


def test_merge(part, location, user):
    a, b, c = (StockItemFactory(part=part, location=location, quantity=q) for q in (10, 20, 30))

    target = stock_items_merge(items=[a, b, c], user=user, notes="consolidate")

    assert target.pk == a.pk
    assert reload(a).quantity == 60
    assert reload(b) is None and reload(c) is None
    assert StockItem.objects.count() == 1
    (merged,) = entries(a, H.MERGED_STOCK_ITEMS)
    assert merged.deltas == {"merged": [b.pk, c.pk], "quantity": "60"}
    assert (merged.user, merged.notes) == (user, "consolidate")
    assert_last_history(a, user, "Merged 2 items")
    for other in (b, c):
        assert_last_history(other, user, f"Merged into item {a.pk}", history_type="-")
    assert reload(a).purchase_price is None
    assert in_stock_total(part) == 60


def test_merge_purchase_price_is_quantity_weighted(part, location, user):
    a = StockItemFactory(
        part=part, location=location, quantity=10, purchase_price=1, purchase_price_currency="EUR"
    )
    b = StockItemFactory(part=part, location=location, quantity=20)  # no price: not weighed
    c = StockItemFactory(
        part=part, location=location, quantity=30, purchase_price=2, purchase_price_currency="EUR"
    )

    stock_items_merge(items=[b, a, c], user=user)

    merged = reload(b)
    assert merged.quantity == 60
    assert (merged.purchase_price, merged.purchase_price_currency) == (D("1.75"), "EUR")


def test_merge_keeps_earliest_expiry_and_moves_to_location(part, location, user):
    a = StockItemFactory(part=part, location=location, quantity=1)
    b = StockItemFactory(part=part, location=location, quantity=1, expiry_date="2030-05-01")
    c = StockItemFactory(part=part, location=location, quantity=1, expiry_date="2030-02-01")
    destination = StockLocationFactory(name="Bulk")

    stock_items_merge(items=[a, b, c], location=destination, user=user)

    a = reload(a)
    assert (a.quantity, a.location, a.expiry_date) == (3, destination, datetime.date(2030, 2, 1))
    (merged,) = entries(a, H.MERGED_STOCK_ITEMS)
    assert merged.deltas == {
        "merged": [b.pk, c.pk],
        "quantity": "3",
        "location": destination.pk,
        "location_path": "Bulk",
    }


def test_merge_repoints_split_children_of_merged_items(part, location, user):
    a = StockItemFactory(part=part, location=location, quantity=5)
    b = StockItemFactory(part=part, location=location, quantity=5)
    child_of_b = stock_item_split(item=b, quantity=2, user=user)

    stock_items_merge(items=[a, b], user=user)

    assert reload(child_of_b).parent_id == a.pk


def test_merge_into_an_item_split_from_a_merged_one(part, location, user):
    grandparent = StockItemFactory(part=part, location=location, quantity=10)
    parent = stock_item_split(item=grandparent, quantity=6, user=user)
    child = stock_item_split(item=parent, quantity=2, user=user)

    target = stock_items_merge(items=[child, parent], user=user)

    connection.check_constraints()  # no reference to the deleted item is left behind
    target = reload(target)
    assert (target.pk, target.quantity, target.parent_id) == (child.pk, 6, grandparent.pk)
    assert reload(parent) is None


def test_merge_refusals(part, location, user, refused):
    a = StockItemFactory(part=part, location=location, quantity=1)
    b = StockItemFactory(part=part, location=location, quantity=2)
    other_part = StockItemFactory(location=location)
    damaged = StockItemFactory(part=part, location=location, status=StockStatus.DAMAGED)
    in_euro, in_dollar = (
        StockItemFactory(part=part, purchase_price=1, purchase_price_currency=currency)
        for currency in ("EUR", "USD")
    )
    structural = StockLocationFactory(structural=True)

    with refused("at least two"):
        stock_items_merge(items=[a], user=user)
    with refused("at least two"):
        stock_items_merge(items=[a, a], user=user)
    with refused("different parts"):
        stock_items_merge(items=[a, other_part], user=user)
    with refused("different statuses"):
        stock_items_merge(items=[a, damaged], user=user)
    with refused(r"different currencies \(EUR, USD\)"):
        stock_items_merge(items=[in_euro, in_dollar], user=user)
    with refused("structural"):
        stock_items_merge(items=[a, b], location=structural, user=user)


def blocked_serialized(part):
    part.trackable = True
    part.save()
    return StockItemFactory(part=part, quantity=1, serial="77")


def blocked_building(part):
    return StockItemFactory(part=part, quantity=1, is_building=True)


def blocked_holding_installed(part):
    holder = StockItemFactory(part=part, quantity=1)
    StockItemFactory(belongs_to=holder, location=None)
    return holder


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (blocked_serialized, "is serialized"),
        (blocked_building, "is a build output in production"),
        (blocked_holding_installed, "has other items installed in it"),
    ],
)
def test_merge_refused_for_items_that_cannot_merge(part, location, user, refused, make, why):
    plain = StockItemFactory(part=part, location=location, quantity=5)
    blocked = make(part)

    for order in ([plain, blocked], [blocked, plain]):
        with refused(f"Cannot merge: {blocked} {why}"):
            stock_items_merge(items=order, user=user)


# --- stock_item_serialize ---------------------------------------------------------------


def test_serialize_in_steps_down_to_zero(trackable_part, location, user):
    item = StockItemFactory(part=trackable_part, location=location, quantity=10)

    first = stock_item_serialize(item=item, quantity=3, serials="1-3", user=user, notes="QA")

    assert reload(item).quantity == 7
    assert [(i.serial, i.quantity, i.parent_id, i.location_id) for i in first] == [
        ("1", 1, item.pk, location.pk),
        ("2", 1, item.pk, location.pk),
        ("3", 1, item.pk, location.pk),
    ]
    for unit in first:
        assert codes(unit) == [H.ASSIGNED_SERIAL]
        assert entries(unit, H.ASSIGNED_SERIAL)[0].deltas == {
            "serial": unit.serial,
            "stockitem": item.pk,
        }
        assert history_of(unit) == [("+", user, f"Serialized from item {item.pk}", 1)]
    (serialized,) = entries(item, H.STOCK_SERIALIZED)
    assert serialized.deltas == {"serials": ["1", "2", "3"], "removed": "3", "quantity": "7"}
    assert_last_history(item, user, "Serialized 3 units")

    stock_item_serialize(item=item, quantity=5, serials="4+", user=user)
    assert reload(item).quantity == 2

    last = stock_item_serialize(item=item, quantity=2, serials="9, 10", user=user)
    assert [u.serial for u in last] == ["9", "10"]
    assert reload(item) is None  # depleted and deleted
    assert history_of(item)[-1] == ("-", user, "Serialized 2 units (depleted)", 0)
    assert sorted(
        StockItem.objects.filter(part=trackable_part).values_list("serial_int", flat=True)
    ) == list(range(1, 11))
    assert in_stock_total(trackable_part) == 10


def test_serialize_all_keeps_item_when_configured(trackable_part, location, user):
    item = StockItemFactory(
        part=trackable_part, location=location, quantity=2, delete_on_deplete=False
    )

    stock_item_serialize(item=item, quantity=2, serials=["A1", "A2"], user=user)

    assert reload(item).quantity == 0
    assert StockItem.objects.filter(part=trackable_part, serial__in=["A1", "A2"]).count() == 2


def test_serialize_into_another_location(trackable_part, location, other_location, user):
    item = StockItemFactory(part=trackable_part, location=location, quantity=5)

    units = stock_item_serialize(
        item=item, quantity=2, serials="1-2", location=other_location, user=user
    )

    assert {u.location_id for u in units} == {other_location.pk}
    assert reload(item).location == location


def test_serialize_refusals(part, trackable_part, location, user, refused):
    plain = StockItemFactory(part=part, location=location, quantity=10)
    batch = StockItemFactory(part=trackable_part, location=location, quantity=10)
    unit = StockItemFactory(part=trackable_part, location=location, quantity=1, serial="500")
    structural = StockLocationFactory(structural=True)

    with refused("is not trackable"):
        stock_item_serialize(item=plain, quantity=3, serials="1-3", user=user)
    with refused("The expression gives 4 serial numbers but the quantity is 3"):
        stock_item_serialize(item=batch, quantity=3, serials="1-4", user=user)
    with refused("Only 10 in this item: cannot serialize 11"):
        stock_item_serialize(item=batch, quantity=11, serials="1+", user=user)
    with refused("whole-number"):
        stock_item_serialize(item=batch, quantity="2.5", serials="1-2", user=user)
    with refused("is serialized"):
        stock_item_serialize(item=unit, quantity=1, serials="501", user=user)
    with refused("structural"):
        stock_item_serialize(item=batch, quantity=1, serials="1", location=structural, user=user)


def test_serialize_conflict_in_family_creates_nothing(location, user, refused):
    template = PartFactory(name="Template", is_template=True, trackable=True)
    variant = PartFactory(name="Variant", variant_of=template, trackable=True)
    StockItemFactory(part=template, quantity=1, serial="3")
    batch = StockItemFactory(part=variant, location=location, quantity=5)

    with refused(f"Serial numbers already in use for '{template}': 3."):
        stock_item_serialize(item=batch, quantity=5, serials="1-5", user=user)


# --- stock_item_change_status -----------------------------------------------------------


def test_change_status(item, user):
    result = stock_item_change_status(item=item, status=StockStatus.DAMAGED, user=user, notes="x")

    assert result.status == reload(item).status == StockStatus.DAMAGED
    (edited,) = entries(item, H.EDITED)
    assert edited.deltas == {"status": 55, "previous_status": 10}
    assert (edited.user, edited.notes) == (user, "x")
    assert_last_history(item, user, "Status changed to Damaged")


def test_change_status_to_unavailable_removes_from_stock(item, part, user):
    stock_item_change_status(item=item, status="60", user=user)

    assert reload(item).status == StockStatus.DESTROYED
    assert in_stock_total(part) == 0


def test_change_status_refusals(item, user, refused):
    with refused("is already OK"):
        stock_item_change_status(item=item, status=StockStatus.OK, user=user)
    for bad in (999, "abc", None):
        with refused("is not a stock status"):
            stock_item_change_status(item=item, status=bad, user=user)


# --- customers --------------------------------------------------------------------------


def test_assign_whole_item_to_customer(item, location, customer, user):
    result = stock_item_assign_to_customer(item=item, customer=customer, user=user)

    item = reload(item)
    assert result.pk == item.pk
    assert (item.customer, item.location, item.quantity) == (customer, None, 10)
    assert item.is_in_stock is False
    (sent,) = entries(item, H.SENT_TO_CUSTOMER)
    assert sent.deltas == {
        "customer": customer.pk,
        "customer_name": "ACME Customer",
        "previous_location": location.pk,
    }
    assert_last_history(item, user, "Sent to customer ACME Customer")


def test_assign_part_of_an_item_splits(item, part, location, customer, user):
    sent = stock_item_assign_to_customer(item=item, customer=customer, quantity=4, user=user)

    original, sent = reload(item), reload(sent)
    assert (original.quantity, original.location, original.customer) == (6, location, None)
    assert (sent.quantity, sent.location, sent.customer, sent.parent) == (
        4,
        None,
        customer,
        original,
    )
    assert codes(original) == [H.SPLIT_CHILD_ITEM]
    assert codes(sent) == [H.SPLIT_FROM_PARENT, H.SENT_TO_CUSTOMER]
    assert in_stock_total(part) == 6


def test_assign_to_customer_refusals(item, customer, user, refused):
    supplier = CompanyFactory(name="Only a supplier", is_customer=False)

    with refused("'Only a supplier' is not marked as a customer"):
        stock_item_assign_to_customer(item=item, customer=supplier, user=user)
    with refused("is not marked as a customer"):
        stock_item_assign_to_customer(item=item, customer=None, user=user)
    with refused("Only 10 in this item: cannot send 12"):
        stock_item_assign_to_customer(item=item, customer=customer, quantity=12, user=user)
    item.status = StockStatus.LOST
    item.save()
    with refused("is not in stock"):
        stock_item_assign_to_customer(item=item, customer=customer, user=user)


def test_return_to_parent_location_merges_back(item, part, location, customer, user):
    sent = stock_item_assign_to_customer(item=item, customer=customer, quantity=4, user=user)
    assert in_stock_total(part) == 6

    result = stock_item_return_from_customer(item=sent, location=location, user=user)

    assert result.pk == item.pk
    assert reload(item).quantity == 10
    assert reload(sent) is None
    assert in_stock_total(part) == 10  # total stock as before
    assert StockItem.objects.filter(part=part).count() == 1
    (merged,) = entries(item, H.MERGED_STOCK_ITEMS)
    assert merged.deltas == {"merged": [sent.pk], "quantity": "10"}
    assert merged.notes == "Merged back after return"
    reasons = [r for _, _, r, _ in history_of(sent)]
    assert reasons[-2:] == ["Returned from customer ACME Customer", f"Merged into item {item.pk}"]


def test_return_elsewhere_keeps_a_separate_item(item, part, customer, other_location, user):
    sent = stock_item_assign_to_customer(item=item, customer=customer, quantity=4, user=user)

    result = stock_item_return_from_customer(
        item=sent, location=other_location, user=user, notes="RMA 7"
    )

    sent = reload(sent)
    assert result.pk == sent.pk
    assert (sent.customer, sent.location, sent.quantity) == (None, other_location, 4)
    (returned,) = entries(sent, H.RETURNED_FROM_CUSTOMER)
    assert returned.deltas == {
        "customer": customer.pk,
        "customer_name": "ACME Customer",
        "location": other_location.pk,
        "location_path": "Shelf B",
    }
    assert (returned.user, returned.notes) == (user, "RMA 7")
    assert_last_history(sent, user, "Returned from customer ACME Customer")
    assert in_stock_total(part) == 10


def test_return_without_merge(item, location, customer, user):
    sent = stock_item_assign_to_customer(item=item, customer=customer, quantity=4, user=user)

    stock_item_return_from_customer(item=sent, location=location, merge=False, user=user)

    assert (reload(item).quantity, reload(sent).quantity) == (6, 4)


def test_return_stays_separate_when_merge_is_impossible(item, location, customer, user):
    sent = stock_item_assign_to_customer(item=item, customer=customer, quantity=4, user=user)
    StockItemFactory(belongs_to=item, location=None)  # the parent now holds an installed item

    result = stock_item_return_from_customer(item=sent, location=location, user=user)

    assert result.pk == sent.pk
    sent = reload(sent)
    assert (sent.customer, sent.location, sent.quantity) == (None, location, 4)
    assert reload(item).quantity == 6
    assert codes(sent)[-1] == H.RETURNED_FROM_CUSTOMER


def test_return_refusals(item, customer, other_location, user, refused):
    structural = StockLocationFactory(structural=True)

    with refused("is not with a customer"):
        stock_item_return_from_customer(item=item, location=other_location, user=user)
    stock_item_assign_to_customer(item=item, customer=customer, user=user)
    with refused("structural"):
        stock_item_return_from_customer(item=item, location=structural, user=user)
    with refused("Choose a destination"):
        stock_item_return_from_customer(item=item, location=None, user=user)


# --- install / uninstall ----------------------------------------------------------------


@pytest.fixture
def assembly(location):
    return StockItemFactory(
        part=PartFactory(name="Chassis", assembly=True), location=location, quantity=1
    )


def test_install(item, assembly, location, user):
    installed = stock_item_install(item=item, into=assembly, user=user, notes="fit")

    item = reload(item)
    assert installed.pk == item.pk
    assert (item.belongs_to, item.location, item.quantity) == (assembly, None, 10)
    assert item.is_in_stock is False
    (into,) = entries(item, H.INSTALLED_INTO_ASSEMBLY)
    assert into.deltas == {"stockitem": assembly.pk, "previous_location": location.pk}
    assert (into.user, into.notes) == (user, "fit")
    (child,) = entries(assembly, H.INSTALLED_CHILD_ITEM)
    assert child.deltas == {"stockitem": item.pk, "quantity": "10"}
    assert codes(assembly) == [H.INSTALLED_CHILD_ITEM]
    assert_last_history(item, user, f"Installed into item {assembly.pk}")
    assert list(assembly.installed_items.all()) == [item]


def test_install_part_of_an_item_splits(item, assembly, location, user):
    installed = stock_item_install(item=item, into=assembly, quantity=2, user=user)

    installed, item = reload(installed), reload(item)
    assert (item.quantity, item.location, item.belongs_to) == (8, location, None)
    assert (installed.quantity, installed.belongs_to, installed.parent) == (2, assembly, item)
    assert codes(installed) == [H.SPLIT_FROM_PARENT, H.INSTALLED_INTO_ASSEMBLY]
    assert entries(assembly, H.INSTALLED_CHILD_ITEM)[0].deltas == {
        "stockitem": installed.pk,
        "quantity": "2",
    }


def test_install_loops_are_refused(location, user, refused):
    a, b, c = (StockItemFactory(location=location, quantity=1) for _ in range(3))
    stock_item_install(item=a, into=b, user=user)
    stock_item_install(item=b, into=c, user=user)

    with refused("An item cannot be installed in itself"):
        stock_item_install(item=c, into=c, user=user)
    with refused("installing would create a loop"):
        stock_item_install(item=b, into=a, user=user)
    with refused("installing would create a loop"):
        stock_item_install(item=c, into=a, user=user)


def test_install_refusals(item, assembly, user, refused):
    with refused("Only 10 in this item: cannot install 11"):
        stock_item_install(item=item, into=assembly, quantity=11, user=user)
    item.status = StockStatus.REJECTED
    item.save()
    with refused("is not in stock .*its status is Rejected.*cannot be installed"):
        stock_item_install(item=item, into=assembly, user=user)


def test_uninstall(item, assembly, other_location, user):
    stock_item_install(item=item, into=assembly, user=user)

    result = stock_item_uninstall(item=item, location=other_location, user=user, notes="repair")

    item = reload(item)
    assert result.pk == item.pk
    assert (item.belongs_to, item.location) == (None, other_location)
    assert item.is_in_stock is True
    assert codes(item) == [H.INSTALLED_INTO_ASSEMBLY, H.REMOVED_FROM_ASSEMBLY]
    assert entries(item, H.REMOVED_FROM_ASSEMBLY)[0].deltas == {
        "stockitem": assembly.pk,
        "location": other_location.pk,
        "location_path": "Shelf B",
    }
    assert codes(assembly) == [H.INSTALLED_CHILD_ITEM, H.REMOVED_CHILD_ITEM]
    assert entries(assembly, H.REMOVED_CHILD_ITEM)[0].deltas == {"stockitem": item.pk}
    assert_last_history(item, user, f"Uninstalled from item {assembly.pk}")


def test_uninstall_refusals(item, assembly, other_location, user, refused):
    structural = StockLocationFactory(structural=True)

    with refused("is not installed in another item"):
        stock_item_uninstall(item=item, location=other_location, user=user)
    stock_item_install(item=item, into=assembly, user=user)
    with refused("structural"):
        stock_item_uninstall(item=item, location=structural, user=user)


# --- stock_location_move_items ----------------------------------------------------------


def test_move_all_items_of_a_location(part, location, other_location, user):
    movable = [StockItemFactory(part=part, location=location, quantity=q) for q in (1, 2, 3)]
    destroyed = StockItemFactory(location=location, status=StockStatus.DESTROYED)
    below = StockItemFactory(location=StockLocationFactory(parent=location))

    assert (
        stock_location_move_items(
            location=location, destination=other_location, user=user, notes="reorg"
        )
        == 3
    )

    for item in movable:
        assert reload(item).location == other_location
        (move,) = entries(item, H.STOCK_MOVE)
        assert (move.deltas["previous_location"], move.notes, move.user) == (
            location.pk,
            "reorg",
            user,
        )
    assert reload(destroyed).location == location
    assert reload(below).location != other_location
    assert codes(destroyed) == [] and codes(below) == []


def test_move_all_items_refusals(item, location, user, refused):
    structural = StockLocationFactory(structural=True)

    with refused("same location"):
        stock_location_move_items(location=location, destination=location, user=user)
    with refused("structural"):
        stock_location_move_items(location=location, destination=structural, user=user)


# --- concurrency (PostgreSQL: SQLite serialises writers anyway) -------------------------


def run_in_threads(*targets):
    """Run each callable in its own thread (with its own connection); re-raise failures."""
    failures = []

    def wrap(target):
        try:
            target()
        except BaseException as exc:  # reported in the test thread
            failures.append(exc)
        finally:
            db.connection.close()

    threads = [threading.Thread(target=wrap, args=(t,), name=t.__name__) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    if failures:
        raise failures[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_removals_both_count():
    require_postgres()
    user = UserFactory()
    item = StockItemFactory(quantity=10)
    barrier = threading.Barrier(2, timeout=10)

    def take_three():
        barrier.wait()
        stock_item_remove(item=item, quantity=3, user=user)

    def take_three_too():
        barrier.wait()
        stock_item_remove(item=item, quantity=3, user=user)

    run_in_threads(take_three, take_three_too)

    assert reload(item).quantity == 4
    assert sorted(e.deltas["quantity"] for e in entries(item, H.STOCK_REMOVE)) == ["4", "7"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_over_removal_waits_for_the_lock_and_is_refused(monkeypatch):
    """The first remover holds the row; the second must wait, then see 4 left and be refused."""
    require_postgres()
    user = UserFactory()
    item = StockItemFactory(quantity=10)
    first_has_row = threading.Event()
    second_done = threading.Event()
    second_pid = []
    outcome = {}
    real_to_quantity = stock_services.to_quantity

    def to_quantity_holding_the_row(value, **kwargs):
        # called by stock_item_remove right after it locked and read the row
        if threading.current_thread().name == "first":
            first_has_row.set()
            wait_until_second_is_blocked_or_done()
        return real_to_quantity(value, **kwargs)

    def wait_until_second_is_blocked_or_done():
        deadline = time.monotonic() + 20
        with db.connection.cursor() as cursor:
            while not second_done.is_set():
                assert time.monotonic() < deadline, "second remover neither blocked nor finished"
                if second_pid:
                    cursor.execute(
                        "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                        second_pid,
                    )
                    if cursor.fetchone()[0]:
                        return

    monkeypatch.setattr(stock_services, "to_quantity", to_quantity_holding_the_row)

    def first():
        outcome["first"] = stock_item_remove(item=item, quantity=6, user=user).quantity

    def second():
        with db.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            second_pid.append(cursor.fetchone()[0])
        assert first_has_row.wait(timeout=20)
        try:
            stock_item_remove(item=item, quantity=6, user=user)
        except ValidationError as exc:
            outcome["second"] = exc
        finally:
            second_done.set()

    run_in_threads(first, second)

    assert outcome["first"] == 4
    assert isinstance(outcome.get("second"), ValidationError), outcome
    assert outcome["second"].message_dict["quantity"] == ["Only 4 in this item: cannot take 6."]
    assert reload(item).quantity == 4
    assert [e.deltas for e in entries(item, H.STOCK_REMOVE)] == [{"removed": "6", "quantity": "4"}]


def race(*calls):
    """Start ``calls`` together (barrier); return what each returned or the ValidationError."""
    barrier = threading.Barrier(len(calls), timeout=10)
    results = [None] * len(calls)

    def runner(index, call):
        def run():
            barrier.wait()
            try:
                results[index] = call()
            except ValidationError as exc:
                results[index] = exc

        run.__name__ = f"racer{index}"
        return run

    run_in_threads(*(runner(i, c) for i, c in enumerate(calls)))
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_serial_assignment_in_one_family_cannot_duplicate():
    require_postgres()
    user = UserFactory()
    template = PartFactory(name="Template", is_template=True, trackable=True)
    variants = [
        PartFactory(name=f"Variant {n}", variant_of=template, trackable=True) for n in (1, 2)
    ]
    location = StockLocationFactory()

    results = race(
        *(
            lambda part=part: stock_item_create(
                part=part, quantity=2, serials="1-2", location=location, user=user
            )
            for part in variants
        )
    )

    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1
    assert "already in use" in refusals[0].messages[0]
    assert sorted(StockItem.objects.values_list("serial", flat=True)) == ["1", "2"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_opposite_installs_at_once_refuse_the_loop_instead_of_deadlocking():
    require_postgres()
    user = UserFactory()
    location = StockLocationFactory()
    a, b = (StockItemFactory(location=location, quantity=1) for _ in range(2))

    results = race(
        lambda: stock_item_install(item=a, into=b, user=user),
        lambda: stock_item_install(item=b, into=a, user=user),
    )

    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1
    assert "installing would create a loop" in refusals[0].messages[0]
    installed = StockItem.objects.exclude(belongs_to=None)
    assert installed.count() == 1
