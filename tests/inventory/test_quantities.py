"""Quantities computed by callers (packs × pack size) are stored with the column's 5 places."""

from decimal import Decimal

import pytest

from inventory.services.common import to_quantity
from inventory.services.stock import stock_item_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_to_quantity_normalises_extra_zero_decimals():
    value = to_quantity(Decimal("1.00000") * Decimal("100.00000"))
    assert value == 100
    assert value.as_tuple().exponent == -5


def test_creating_stock_from_a_product_of_two_quantities(superuser):
    units = Decimal("2.50000") * Decimal("4.00000")  # 10.0000000000: ten decimal places
    item = stock_item_create(part=factories.PartFactory(), quantity=units, user=superuser)[0]
    item.refresh_from_db()
    assert item.quantity == 10
