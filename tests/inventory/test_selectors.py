"""Selectors: in-stock figures and tree counts as annotations, with bounded queries."""

import datetime

import pytest
from django.utils import timezone

from inventory.choices import StockStatus
from inventory.models import Part, PartCategory, StockItem, StockLocation
from inventory.selectors import annotate_category_counts, annotate_location_counts, parts_with_stock
from tests.factories import (
    CompanyFactory,
    PartCategoryFactory,
    PartFactory,
    StockItemFactory,
    StockLocationFactory,
)
from tests.inventory.conftest import D

pytestmark = pytest.mark.django_db


def stock_of(part):
    return parts_with_stock().get(pk=part.pk)


def add_excluded_stock(part, location):
    """Stock of ``part`` that exists but is not in stock; 1000 units in total."""
    assembly = StockItemFactory(location=location, quantity=1)
    StockItemFactory(part=part, location=location, quantity=0, delete_on_deplete=False)
    StockItemFactory(part=part, location=location, quantity=100, status=StockStatus.DESTROYED)
    StockItemFactory(part=part, location=location, quantity=100, status=StockStatus.LOST)
    StockItemFactory(part=part, location=location, quantity=100, status=StockStatus.REJECTED)
    StockItemFactory(part=part, location=location, quantity=100, status=StockStatus.QUARANTINED)
    StockItemFactory(part=part, location=None, quantity=200, belongs_to=assembly)
    StockItemFactory(part=part, location=None, quantity=200, customer=CompanyFactory())
    StockItemFactory(part=part, location=location, quantity=200, is_building=True)


def test_in_stock_counts_only_stock_on_hand(part, location):
    StockItemFactory(part=part, location=location, quantity=10)
    StockItemFactory(part=part, location=location, quantity="2.5", status=StockStatus.ATTENTION)
    StockItemFactory(part=part, location=location, quantity=3, status=StockStatus.DAMAGED)
    StockItemFactory(part=part, location=None, quantity=4, status=StockStatus.RETURNED)
    add_excluded_stock(part, location)
    StockItemFactory(location=location, quantity=50)  # another part

    row = stock_of(part)

    assert row.in_stock == D("19.5")
    assert row.allocated == 0
    assert row.available == D("19.5")
    assert row.on_order == 0
    assert sum(StockItem.objects.filter(part=part).values_list("quantity", flat=True)) == D(
        "1019.5"
    )


def test_part_without_stock_has_zero_not_null(part):
    row = stock_of(part)

    assert (row.in_stock, row.available) == (0, 0)


@pytest.mark.parametrize(
    ("minimum", "quantity", "low"),
    [
        (20, 10, True),
        (20, 20, False),
        (20, 25, False),
        (5, None, True),  # no stock at all
        (0, None, False),  # no minimum: never low
        (D("0.5"), D("0.25"), True),
    ],
)
def test_low_stock(location, minimum, quantity, low):
    part = PartFactory(minimum_stock=minimum)
    if quantity is not None:
        StockItemFactory(part=part, location=location, quantity=quantity)
    StockItemFactory(part=part, location=location, quantity=100, status=StockStatus.DESTROYED)

    assert stock_of(part).low_stock is low
    assert parts_with_stock().filter(low_stock=True).exists() is low


def test_parts_with_stock_filters_and_orders_by_annotations(location):
    small, large = PartFactory(name="Small"), PartFactory(name="Large")
    StockItemFactory(part=small, location=location, quantity=1)
    StockItemFactory(part=large, location=location, quantity=9)

    rows = parts_with_stock().filter(in_stock__gt=0).order_by("-in_stock")
    assert [(p.name, p.in_stock) for p in rows] == [("Large", 9), ("Small", 1)]


def test_parts_with_stock_is_one_query(location, django_assert_num_queries):
    parts = [PartFactory(category=None) for _ in range(25)]
    for index, part in enumerate(parts):
        StockItemFactory(part=part, location=location, quantity=index + 1)
        StockItemFactory(part=part, location=location, quantity=7, status=StockStatus.LOST)

    with django_assert_num_queries(1):
        rows = list(parts_with_stock().order_by("pk"))

    assert [r.in_stock for r in rows] == list(range(1, 26))


def test_parts_with_stock_accepts_a_queryset(location):
    keep, skip = PartFactory(name="Keep"), PartFactory(name="Skip")
    StockItemFactory(part=keep, location=location, quantity=3)

    rows = parts_with_stock(Part.objects.filter(name="Keep"))
    assert [(p.pk, p.in_stock) for p in rows] == [(keep.pk, 3)]
    assert skip.pk not in {p.pk for p in rows}


def categories_with_counts():
    categories = list(PartCategory.objects.all())
    annotate_category_counts(categories)
    return categories


def locations_with_counts(queryset=None):
    locations = list(StockLocation.objects.all() if queryset is None else queryset)
    annotate_location_counts(locations)
    return locations


def test_categories_count_parts_in_the_whole_subtree():
    root = PartCategoryFactory(name="Electronics")
    passives = PartCategoryFactory(name="Passives", parent=root)
    resistors = PartCategoryFactory(name="Resistors", parent=passives)
    PartCategoryFactory(name="Capacitors", parent=passives)
    mechanics = PartCategoryFactory(name="Mechanics")
    for category, count in ((root, 1), (passives, 2), (resistors, 3), (mechanics, 4)):
        for _ in range(count):
            PartFactory(category=category)
    PartFactory(category=resistors, active=False)

    rows = {c.name: (c.part_count, c.child_count) for c in categories_with_counts()}

    assert rows == {
        "Electronics": (7, 1),
        "Passives": (6, 2),
        "Resistors": (4, 0),
        "Capacitors": (0, 0),
        "Mechanics": (4, 0),
    }


def test_category_counts_do_not_leak_to_lookalike_paths():
    parent = PartCategory.objects.create(pk=8001, name="Parent")
    PartCategory.objects.create(pk=80010, name="Lookalike")
    PartFactory(category=PartCategory.objects.get(pk=80010))

    counts = {c.pk: c.part_count for c in categories_with_counts()}
    assert counts[parent.pk] == 0


def test_category_counts_are_two_queries(django_assert_num_queries):
    roots = [PartCategoryFactory() for _ in range(10)]
    for root in roots:
        child = PartCategoryFactory(parent=root)
        PartFactory(category=root)
        PartFactory(category=child)

    rows = list(PartCategory.objects.filter(parent=None))
    with django_assert_num_queries(2):
        annotate_category_counts(rows)

    assert len(rows) == 10
    assert {(r.part_count, r.child_count) for r in rows} == {(2, 1)}


def test_locations_count_the_stock_items_stored_in_the_whole_subtree():
    warehouse = StockLocationFactory(name="Warehouse")
    aisle = StockLocationFactory(name="Aisle", parent=warehouse)
    shelf = StockLocationFactory(name="Shelf", parent=aisle)
    StockLocationFactory(name="Empty", parent=aisle)
    shop = StockLocationFactory(name="Shop")
    part = PartFactory()
    for location, count in ((warehouse, 1), (aisle, 2), (shelf, 3), (shop, 1)):
        for _ in range(count):
            StockItemFactory(part=part, location=location, quantity=5)
    add_excluded_stock(part, shelf)  # 7 more items stored on the shelf (6 not in stock)

    rows = {loc.name: (loc.item_count, loc.child_count) for loc in locations_with_counts()}

    # every item stored there, as the stock list's location filter shows them
    assert rows == {
        "Warehouse": (13, 1),
        "Aisle": (12, 2),
        "Shelf": (10, 0),
        "Empty": (0, 0),
        "Shop": (1, 0),
    }


def test_location_counts_are_one_query_on_the_maintained_counters(django_assert_num_queries):
    part = PartFactory()
    for _ in range(10):
        root = StockLocationFactory()
        StockItemFactory(part=part, location=root)
        StockItemFactory(part=part, location=StockLocationFactory(parent=root))

    rows = list(StockLocation.objects.filter(parent=None))
    with django_assert_num_queries(1):  # the subtrees' items_stored, no stock item row read
        annotate_location_counts(rows)

    assert len(rows) == 10
    assert {(r.item_count, r.child_count) for r in rows} == {(2, 1)}
    assert StockLocation.objects.count() == 20


def test_expired_items(part, location):
    today = timezone.localdate()
    past = StockItemFactory(part=part, location=location, expiry_date=today - datetime.timedelta(1))
    StockItemFactory(part=part, location=location, expiry_date=today)  # today: not yet expired
    StockItemFactory(part=part, location=location, expiry_date=None)
    StockItemFactory(
        part=part,
        location=location,
        expiry_date=today - datetime.timedelta(1),
        status=StockStatus.DESTROYED,
    )

    assert list(StockItem.objects.expired()) == [past]
    assert [i.is_expired for i in StockItem.objects.filter(part=part).order_by("pk")] == [
        True,
        False,
        False,
        False,
    ]
