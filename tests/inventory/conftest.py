"""Fixtures and helpers for the inventory domain tests."""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from inventory.models import (
    Part,
    PartCategory,
    PartParameter,
    StockItem,
    StockItemTracking,
    StockLocation,
)
from tests.factories import (
    CompanyFactory,
    PartFactory,
    StockItemFactory,
    StockLocationFactory,
    UserFactory,
)


def db_state() -> dict:
    """Everything a refused operation must leave exactly as it was."""
    return {
        "items": list(
            StockItem.objects.order_by("pk").values_list(
                "pk",
                "part_id",
                "quantity",
                "location_id",
                "status",
                "serial",
                "customer_id",
                "belongs_to_id",
                "parent_id",
                "purchase_price",
                "stocktake_date",
            )
        ),
        "tracking": StockItemTracking.objects.count(),
        "item_history": StockItem.history.count(),
        "parts": list(Part.objects.order_by("pk").values_list("pk", "category_id", "name")),
        "part_history": Part.history.count(),
        "categories": list(
            PartCategory.objects.order_by("pk").values_list("pk", "parent_id", "name", "pathstring")
        ),
        "category_history": PartCategory.history.count(),
        "locations": list(
            StockLocation.objects.order_by("pk").values_list(
                "pk", "parent_id", "name", "pathstring"
            )
        ),
        "location_history": StockLocation.history.count(),
        "parameters": PartParameter.objects.count(),
    }


@pytest.fixture
def refused():
    """``with refused("message"): service(...)``: raises ValidationError and changes nothing."""

    @contextmanager
    def _refused(match=None):
        before = db_state()
        with pytest.raises(ValidationError, match=match) as excinfo:
            yield excinfo
        assert db_state() == before

    return _refused


def codes(item) -> list[int]:
    """Tracking types of an item's timeline, oldest first."""
    return list(
        StockItemTracking.objects.filter(item_id=item.pk)
        .order_by("pk")
        .values_list("tracking_type", flat=True)
    )


def entries(item, code) -> list[StockItemTracking]:
    return list(
        StockItemTracking.objects.filter(item_id=item.pk, tracking_type=code).order_by("pk")
    )


def last_history(model, pk):
    """The newest simple-history record of row ``pk`` (also after the row was deleted)."""
    return model.history.filter(id=pk).order_by("-history_id").first()


def reload(obj):
    """A fresh copy from the database (None when it was deleted)."""
    return type(obj).objects.filter(pk=obj.pk).first()


def D(value) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


@pytest.fixture
def user(db):
    return UserFactory(username="stockkeeper")


@pytest.fixture
def location(db):
    return StockLocationFactory(name="Shelf A")


@pytest.fixture
def other_location(db):
    return StockLocationFactory(name="Shelf B")


@pytest.fixture
def part(db):
    return PartFactory(name="Resistor 10k")


@pytest.fixture
def trackable_part(db):
    return PartFactory(name="Controller board", trackable=True)


@pytest.fixture
def item(part, location):
    """10 units of ``part`` on ``location``."""
    return StockItemFactory(part=part, location=location, quantity=10)


@pytest.fixture
def customer(db):
    return CompanyFactory(name="ACME Customer", is_customer=True)
