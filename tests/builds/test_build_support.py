"""Shared data and helpers for the build order tests (imported by the test_build_* modules).

Fixtures are imported by their function names (``shop_fixture``…) and used by their
fixture names (``shop``…), so test parameters do not shadow the imports.

The ``shop`` fixture is a small factory: a Widget assembly made of 2 × Resistor and
4 × Screw (+10 % overage), with stock on a shelf inside the Store, and a Finished goods
location. A build of 10 Widgets therefore requires 20 resistors and 44 screws.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from builds.models import BuildItem, BuildLine, BuildOrder
from builds.services.build import build_order_create
from inventory.models import StockItem, StockItemTracking
from tests.factories import (
    BomItemFactory,
    PartFactory,
    StockItemFactory,
    StockLocationFactory,
    UserFactory,
)
from tests.inventory.conftest import D, codes, entries, last_history, reload

__all__ = [
    "D",
    "Shop",
    "build_state",
    "codes",
    "entries",
    "last_history",
    "refused_fixture",
    "reload",
    "shop_fixture",
    "user_fixture",
]


def build_state() -> dict:
    """Everything a refused build operation must leave exactly as it was."""
    return {
        "builds": list(
            BuildOrder.objects.order_by("pk").values_list(
                "pk",
                "reference",
                "quantity",
                "completed",
                "status",
                "issued_by",
                "completed_at",
                "take_from",
                "destination",
                "parent",
                "title",
            )
        ),
        "lines": list(
            BuildLine.objects.order_by("pk").values_list("pk", "build", "quantity", "consumed")
        ),
        "allocations": list(
            BuildItem.objects.order_by("pk").values_list(
                "pk", "build_line", "stock_item", "quantity", "install_into"
            )
        ),
        "items": list(
            StockItem.objects.order_by("pk").values_list(
                "pk",
                "part",
                "quantity",
                "location",
                "status",
                "serial",
                "build",
                "is_building",
                "consumed_by",
                "belongs_to",
            )
        ),
        "tracking": StockItemTracking.objects.count(),
        "history": (
            BuildOrder.history.count(),
            BuildLine.history.count(),
            BuildItem.history.count(),
            StockItem.history.count(),
        ),
    }


@contextmanager
def _refused(match=None):
    before = build_state()
    with pytest.raises(ValidationError, match=match) as excinfo:
        yield excinfo
    assert build_state() == before


@pytest.fixture(name="refused")
def refused_fixture():
    """``with refused("message"): service(...)``: raises ValidationError, changes nothing."""
    return _refused


@pytest.fixture(name="user")
def user_fixture(db):
    return UserFactory(username="builder")


@dataclass
class Shop:
    user: object
    store: object
    shelf: object
    elsewhere: object
    finished: object
    widget: object
    resistor: object
    screw: object
    line_resistor: object
    line_screw: object
    resistors: object  # 100 on the shelf
    screws: object  # 50 on the shelf

    def build(self, quantity=10, **kwargs) -> BuildOrder:
        kwargs.setdefault("destination", self.finished)
        return build_order_create(part=self.widget, quantity=quantity, user=self.user, **kwargs)

    def line(self, build, part) -> BuildLine:
        return build.lines.get(bom_item__sub_part=part)

    def stock(self, part, quantity, location=None, **kwargs) -> StockItem:
        return StockItemFactory(
            part=part, quantity=Decimal(str(quantity)), location=location or self.shelf, **kwargs
        )


@pytest.fixture(name="shop")
def shop_fixture(user):
    store = StockLocationFactory(name="Store")
    shelf = StockLocationFactory(name="Shelf", parent=store)
    elsewhere = StockLocationFactory(name="Elsewhere")
    finished = StockLocationFactory(name="Finished goods")
    widget = PartFactory(name="Widget", assembly=True, component=False)
    resistor = PartFactory(name="Resistor")
    screw = PartFactory(name="Screw")
    line_resistor = BomItemFactory(part=widget, sub_part=resistor, quantity=2)
    line_screw = BomItemFactory(part=widget, sub_part=screw, quantity=4, overage="10%")
    return Shop(
        user=user,
        store=store,
        shelf=shelf,
        elsewhere=elsewhere,
        finished=finished,
        widget=widget,
        resistor=resistor,
        screw=screw,
        line_resistor=line_resistor,
        line_screw=line_screw,
        resistors=StockItemFactory(part=resistor, quantity=100, location=shelf),
        screws=StockItemFactory(part=screw, quantity=50, location=shelf),
    )
