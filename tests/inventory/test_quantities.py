"""Quantities computed by callers (packs × pack size) are stored with the column's 5 places."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from inventory.services.common import to_quantity
from inventory.services.stock import stock_item_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_to_quantity_normalises_extra_zero_decimals():
    value = to_quantity(Decimal("1.00000") * Decimal("100.00000"))
    assert value == 100
    assert value.as_tuple().exponent == -5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e30", "Quantity is too large (must be less than 10,000,000,000)."),
        ("1e5000", "Quantity is too large (must be less than 10,000,000,000)."),
        ("10000000000", "Quantity is too large (must be less than 10,000,000,000)."),
        ("1e-5000", "Quantity can have at most 5 decimal places."),
        ("1.000000000000000000000000000001", "Quantity can have at most 5 decimal places."),
    ],
)
def test_to_quantity_refuses_huge_and_tiny_exponents_with_a_sentence(value, message):
    # quantize() raises InvalidOperation beyond the context's 28 digits: never let it escape
    with pytest.raises(ValidationError) as caught:
        to_quantity(value)
    assert caught.value.message_dict == {"quantity": [message]}


def test_to_quantity_accepts_the_largest_storable_quantity():
    assert to_quantity("9999999999.99999") == Decimal("9999999999.99999")


def test_creating_stock_from_a_product_of_two_quantities(superuser):
    units = Decimal("2.50000") * Decimal("4.00000")  # 10.0000000000: ten decimal places
    item = stock_item_create(part=factories.PartFactory(), quantity=units, user=superuser)[0]
    item.refresh_from_db()
    assert item.quantity == 10
