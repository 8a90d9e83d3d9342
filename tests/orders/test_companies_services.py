"""Company services: one primary address (R64), sourcing rules (R65), price breaks."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orders.models import Address, SupplierPart
from orders.services.companies import (
    address_delete,
    address_ensure_primary,
    address_save,
    address_set_primary,
    manufacturer_part_check,
    manufacturer_part_save,
    supplier_part_check,
    supplier_part_price,
    supplier_part_price_break,
    supplier_part_save,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return factories.UserFactory(username="purchasing")


@pytest.fixture
def company():
    return factories.SupplierFactory(name="Mouser")


def primaries(company):
    return list(
        Address.objects.filter(company=company, primary=True).values_list("title", flat=True)
    )


# --- addresses -------------------------------------------------------------------------------


def test_first_address_becomes_primary(company, user):
    first = address_save(address=Address(company=company, title="HQ", line1="1 Road"), user=user)
    second = address_save(
        address=Address(company=company, title="Depot", line1="2 Road"), user=user
    )
    assert (first.primary, second.primary) == (True, False)
    record = Address.history.filter(id=first.pk).first()
    assert (record.history_user, record.history_change_reason) == (user, "Created")


def test_saving_an_address_as_primary_unmarks_the_other(company, user):
    address_save(address=Address(company=company, title="HQ", line1="1 Road"), user=user)
    address_save(
        address=Address(company=company, title="Depot", line1="2", primary=True), user=user
    )
    assert primaries(company) == ["Depot"]
    hq = Address.objects.get(title="HQ")
    record = Address.history.filter(id=hq.pk).order_by("-history_id").first()
    assert (record.history_user, record.history_change_reason) == (
        user,
        "Primary address is now 'Depot'",
    )


def test_set_primary(company, user):
    hq = factories.AddressFactory(company=company, title="HQ", primary=True)
    depot = factories.AddressFactory(company=company, title="Depot")
    other = factories.AddressFactory(title="Elsewhere", primary=True)
    address_set_primary(address=depot, user=user)
    assert primaries(company) == ["Depot"]
    assert Address.objects.get(pk=other.pk).primary  # other companies untouched
    assert not Address.objects.get(pk=hq.pk).primary


def test_database_allows_one_primary_per_company(company):
    factories.AddressFactory(company=company, primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.AddressFactory(company=company, primary=True)


def test_deleting_the_primary_promotes_the_next(company, user):
    hq = factories.AddressFactory(company=company, title="HQ", primary=True)
    factories.AddressFactory(company=company, title="Depot")
    address_delete(address=hq, user=user)
    assert primaries(company) == ["Depot"]


def test_ensure_primary_without_addresses(company, user):
    assert address_ensure_primary(company=company, user=user) is None


# --- sourcing rules --------------------------------------------------------------------------


def test_supplier_part_rules(company):
    part = factories.PartFactory(name="Bolt")
    other_mp = factories.ManufacturerPartFactory(mpn="X1")
    bad = SupplierPart(
        part=factories.PartFactory(name="Service", purchaseable=False),
        supplier=factories.CompanyFactory(name="Retail", is_supplier=False),
        sku="S",
        pack_quantity=0,
    )
    with pytest.raises(ValidationError) as info:
        supplier_part_check(bad)
    assert info.value.message_dict == {
        "part": [f"'{bad.part}' is not purchaseable: mark it purchaseable first."],
        "supplier": ["Retail is not marked as a supplier."],
        "pack_quantity": ["Pack quantity must be greater than zero."],
    }
    wrong_mp = SupplierPart(part=part, supplier=company, sku="B", manufacturer_part=other_mp)
    with pytest.raises(ValidationError) as info:
        supplier_part_check(wrong_mp)
    assert info.value.message_dict == {
        "manufacturer_part": [
            f"{other_mp} is a manufacturer part of '{other_mp.part}', not of '{part}'."
        ]
    }


def test_trackable_part_pack_must_be_whole(company):
    sp = SupplierPart(
        part=factories.PartFactory(trackable=True), supplier=company, sku="T", pack_quantity="2.5"
    )
    with pytest.raises(ValidationError, match="whole number"):
        supplier_part_check(sp)


def test_supplier_part_save_validates_and_records_history(company, user):
    part = factories.PartFactory()
    mp = factories.ManufacturerPartFactory(part=part)
    sp = supplier_part_save(
        supplier_part=SupplierPart(part=part, supplier=company, sku="OK-1", manufacturer_part=mp),
        user=user,
    )
    assert SupplierPart.history.filter(id=sp.pk).first().history_user == user
    with pytest.raises(ValidationError, match="already has this SKU"):
        supplier_part_save(
            supplier_part=SupplierPart(part=part, supplier=company, sku="OK-1"), user=user
        )
    assert SupplierPart.objects.count() == 1


def test_manufacturer_part_rules(user):
    not_a_manufacturer = factories.CompanyFactory(name="Shop", is_manufacturer=False)
    mp = factories.ManufacturerPartFactory.build(
        part=factories.PartFactory(), manufacturer=not_a_manufacturer
    )
    with pytest.raises(ValidationError) as info:
        manufacturer_part_check(mp)
    assert info.value.message_dict == {"manufacturer": ["Shop is not marked as a manufacturer."]}
    good = factories.ManufacturerPartFactory.build(
        part=factories.PartFactory(), manufacturer=factories.ManufacturerFactory(), mpn="M-1"
    )
    manufacturer_part_save(manufacturer_part=good, user=user)
    duplicate = factories.ManufacturerPartFactory.build(
        part=good.part, manufacturer=good.manufacturer, mpn="M-1"
    )
    with pytest.raises(ValidationError, match="already exists"):
        manufacturer_part_save(manufacturer_part=duplicate, user=user)


# --- prices ----------------------------------------------------------------------------------


@pytest.fixture
def priced():
    sp = factories.SupplierPartFactory()
    for quantity, price in [(1, "10"), (10, "9"), (100, "8")]:
        factories.SupplierPriceBreakFactory(
            supplier_part=sp, quantity=quantity, price=Decimal(price)
        )
    return sp


@pytest.mark.parametrize(
    ("quantity", "price"),
    [
        ("0.5", None),
        (1, "10"),
        (9, "10"),
        ("9.99999", "10"),
        (10, "9"),
        (99, "9"),
        (100, "8"),
        (5000, "8"),
    ],
)
def test_price_lookup_picks_the_break_for_the_quantity(priced, quantity, price):
    expected = Decimal(price) if price else None
    assert supplier_part_price(priced, quantity) == expected


def test_price_lookup_without_breaks():
    assert supplier_part_price(factories.SupplierPartFactory(), 10) is None


def test_price_lookup_uses_prefetched_breaks(priced, django_assert_num_queries):
    sp = SupplierPart.objects.prefetch_related("price_breaks").get(pk=priced.pk)
    with django_assert_num_queries(0):
        assert supplier_part_price_break(sp, 50).quantity == 10


def test_price_lookup_in_one_currency(priced):
    factories.SupplierPriceBreakFactory(supplier_part=priced, quantity=50, price=7, currency="USD")
    assert supplier_part_price(priced, 60) == 7  # any currency: the 50+ break (USD)
    assert supplier_part_price(priced, 60, "EUR") == 9  # only EUR breaks: the 10+ break
    assert supplier_part_price(priced, 60, "GBP") is None
