"""Purchase order services: creation and references, lines, transitions (R47, R49, R60)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from orders.choices import PurchaseOrderStatus as S
from orders.models import PurchaseOrder, PurchaseOrderLine
from orders.services.purchase import (
    purchase_order_add_line,
    purchase_order_cancel,
    purchase_order_complete,
    purchase_order_create,
    purchase_order_hold,
    purchase_order_place,
)
from tests import factories

pytestmark = pytest.mark.django_db


def state():
    """What a refused call must leave unchanged."""
    return {
        "orders": list(
            PurchaseOrder.objects.order_by("pk").values_list(
                "pk", "reference", "status", "issue_date", "complete_date", "received_by_id"
            )
        ),
        "lines": list(
            PurchaseOrderLine.objects.order_by("pk").values_list(
                "pk", "order_id", "supplier_part_id", "quantity", "received", "unit_price"
            )
        ),
        "order_history": PurchaseOrder.history.count(),
        "line_history": PurchaseOrderLine.history.count(),
    }


@pytest.fixture
def refused():
    class Refused:
        def __init__(self, match=None):
            self.match = match

        def __enter__(self):
            self.before = state()
            self.raises = pytest.raises(ValidationError, match=self.match)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            assert state() == self.before
            return handled

    return Refused


@pytest.fixture
def user():
    return factories.UserFactory(username="buyer")


@pytest.fixture
def supplier():
    return factories.SupplierFactory(name="Mouser", currency="USD")


@pytest.fixture
def supplier_part(supplier):
    return factories.SupplierPartFactory(
        supplier=supplier, part=factories.PartFactory(name="Resistor 10k"), sku="R10K"
    )


@pytest.fixture
def order(supplier, user):
    return purchase_order_create(supplier=supplier, user=user)


@pytest.fixture
def order_with_line(order, supplier_part, user):
    purchase_order_add_line(
        order=order, supplier_part=supplier_part, quantity=5, unit_price=Decimal("2.5"), user=user
    )
    return order


def last_history(obj):
    return type(obj).history.filter(id=obj.pk).order_by("-history_id").first()


# --- create ----------------------------------------------------------------------------------


def test_create_allocates_next_reference_currency_and_history(supplier, user):
    first = purchase_order_create(supplier=supplier, user=user, description="Resistors")
    second = purchase_order_create(supplier=supplier, user=user)
    assert (first.reference, first.reference_int) == ("PO-0001", 1)
    assert second.reference == "PO-0002"
    assert first.status == S.PENDING
    assert first.currency == "USD"  # the supplier's
    assert first.created_by == user
    record = last_history(first)
    assert (record.history_user, record.history_change_reason) == (user, "Created")


def test_create_with_given_reference_continues_numbering(supplier, user):
    order = purchase_order_create(supplier=supplier, user=user, reference="PO-0041")
    assert order.reference_int == 41
    assert purchase_order_create(supplier=supplier, user=user).reference == "PO-0042"


def test_create_uses_configured_pattern(settings, supplier, user):
    settings.PURCHASE_ORDER_REFERENCE_PATTERN = "PUR-{ref:05d}"
    assert purchase_order_create(supplier=supplier, user=user).reference == "PUR-00001"


def test_create_refuses_reference_not_matching_pattern(refused, supplier, user):
    with refused("does not match the pattern") as info:
        purchase_order_create(supplier=supplier, user=user, reference="ORDER-7")
    assert "reference" in info.value.message_dict


def test_create_refuses_duplicate_reference(refused, order, supplier, user):
    with refused("already"):
        purchase_order_create(supplier=supplier, user=user, reference=order.reference)


def test_create_refuses_company_that_is_not_a_supplier(refused, user):
    customer = factories.CompanyFactory(name="Retail Ltd", is_supplier=False)
    with refused() as info:
        purchase_order_create(supplier=customer, user=user)
    assert "supplier" in info.value.message_dict


def test_create_refuses_contact_and_address_of_another_company(refused, supplier, user):
    other = factories.SupplierFactory(name="Digikey")
    contact = factories.ContactFactory(company=other, name="Jane")
    address = factories.AddressFactory(company=other, title="Depot")
    with refused() as info:
        purchase_order_create(supplier=supplier, user=user, contact=contact, address=address)
    assert info.value.message_dict == {
        "contact": ["Jane is a contact of Digikey, not of Mouser."],
        "address": ["This address belongs to Digikey, not to Mouser."],
    }


def test_create_accepts_own_contact_and_address(supplier, user):
    contact = factories.ContactFactory(company=supplier)
    address = factories.AddressFactory(company=supplier)
    order = purchase_order_create(supplier=supplier, user=user, contact=contact, address=address)
    assert (order.contact, order.address) == (contact, address)


def test_create_refuses_a_status(supplier, user):
    with pytest.raises(TypeError):
        purchase_order_create(supplier=supplier, user=user, status=S.PLACED)


# --- lines -----------------------------------------------------------------------------------


def test_add_line_uses_price_break_for_the_quantity(order, supplier_part, user):
    for quantity, price in [(1, "10"), (10, "9"), (100, "8")]:
        factories.SupplierPriceBreakFactory(
            supplier_part=supplier_part, quantity=quantity, price=Decimal(price), currency="USD"
        )
    line = purchase_order_add_line(order=order, supplier_part=supplier_part, quantity=25, user=user)
    assert (line.quantity, line.unit_price, line.received) == (25, Decimal(9), 0)
    record = last_history(line)
    assert (record.history_user, record.history_change_reason) == (user, "Added to order")


def test_add_line_ignores_price_break_in_another_currency(order, supplier_part, user):
    factories.SupplierPriceBreakFactory(supplier_part=supplier_part, price=3, currency="EUR")
    line = purchase_order_add_line(order=order, supplier_part=supplier_part, quantity=2, user=user)
    assert line.unit_price is None


def test_add_line_explicit_price_wins(order, supplier_part, user):
    factories.SupplierPriceBreakFactory(supplier_part=supplier_part, price=3, currency="USD")
    line = purchase_order_add_line(
        order=order, supplier_part=supplier_part, quantity=2, unit_price="1.25", user=user
    )
    assert line.unit_price == Decimal("1.25")


def test_add_line_merge_increases_the_existing_line(order, supplier_part, user):
    first = purchase_order_add_line(order=order, supplier_part=supplier_part, quantity=5, user=user)
    merged = purchase_order_add_line(
        order=order, supplier_part=supplier_part, quantity=3, user=user, merge=True
    )
    assert merged.pk == first.pk
    assert order.lines.get().quantity == 8
    separate = purchase_order_add_line(
        order=order, supplier_part=supplier_part, quantity=1, user=user
    )
    assert separate.pk != first.pk and order.lines.count() == 2


def test_add_line_refuses_supplier_part_of_another_supplier(refused, order, user):
    foreign = factories.SupplierPartFactory(
        supplier=factories.SupplierFactory(name="Digikey"), sku="D-1"
    )
    with refused() as info:
        purchase_order_add_line(order=order, supplier_part=foreign, quantity=1, user=user)
    assert info.value.message_dict == {
        "supplier_part": ["Digikey D-1 is sold by Digikey, not by this order's supplier Mouser."]
    }


@pytest.mark.parametrize("quantity", [0, -1, "abc"])
def test_add_line_refuses_bad_quantity(refused, order, supplier_part, user, quantity):
    with refused() as info:
        purchase_order_add_line(
            order=order, supplier_part=supplier_part, quantity=quantity, user=user
        )
    assert "quantity" in info.value.message_dict


def test_add_line_refuses_inactive_supplier_part(refused, order, supplier_part, user):
    supplier_part.active = False
    supplier_part.save()
    with refused("inactive"):
        purchase_order_add_line(order=order, supplier_part=supplier_part, quantity=1, user=user)


def test_add_line_refuses_fractional_units_of_trackable_part(refused, order, supplier, user):
    sp = factories.SupplierPartFactory(
        supplier=supplier, part=factories.PartFactory(trackable=True), pack_quantity=1
    )
    with refused("trackable"):
        purchase_order_add_line(order=order, supplier_part=sp, quantity="1.5", user=user)


@pytest.mark.parametrize("status", [S.COMPLETE, S.CANCELLED])
def test_add_line_refuses_closed_order(refused, order, supplier_part, user, status):
    PurchaseOrder.objects.filter(pk=order.pk).update(status=status)
    with refused("only while the order is open"):
        purchase_order_add_line(order=order, supplier_part=supplier_part, quantity=1, user=user)


# --- transitions -----------------------------------------------------------------------------

ALL = [S.PENDING, S.PLACED, S.ON_HOLD, S.COMPLETE, S.CANCELLED, S.LOST, S.RETURNED]
TRANSITIONS = [
    (purchase_order_place, {S.PENDING, S.ON_HOLD}, S.PLACED),
    (purchase_order_hold, {S.PENDING, S.PLACED}, S.ON_HOLD),
    (purchase_order_complete, {S.PLACED}, S.COMPLETE),
    (purchase_order_cancel, {S.PENDING, S.PLACED, S.ON_HOLD}, S.CANCELLED),
]


@pytest.mark.parametrize("start", ALL, ids=[s.label for s in ALL])
@pytest.mark.parametrize(
    ("service", "allowed", "target"), TRANSITIONS, ids=[t[0].__name__ for t in TRANSITIONS]
)
def test_transition_table(refused, order_with_line, user, service, allowed, target, start):
    order = order_with_line
    PurchaseOrder.objects.filter(pk=order.pk).update(status=start)
    kwargs = {"accept_incomplete": True} if service is purchase_order_complete else {}
    if start in allowed:
        result = service(order=order, user=user, **kwargs)
        order.refresh_from_db()
        assert result.status == order.status == target
        record = last_history(order)
        assert record.history_user == user
        assert record.status == target
    else:
        with refused(f"{order.reference} is {start.label}: it can only be"):
            service(order=order, user=user, **kwargs)


def test_place_sets_issue_date_and_keeps_it_after_hold(order_with_line, user):
    placed = purchase_order_place(order=order_with_line, user=user)
    today = timezone.localdate()
    assert placed.issue_date == today
    assert last_history(placed).history_change_reason == "Placed (Placed)"
    PurchaseOrder.objects.filter(pk=placed.pk).update(issue_date=today - datetime.timedelta(days=3))
    purchase_order_hold(order=placed, user=user)
    again = purchase_order_place(order=placed, user=user)
    assert again.issue_date == today - datetime.timedelta(days=3)


def test_place_refuses_an_order_without_lines(refused, order, user):
    with refused("PO-0001 has no lines"):
        purchase_order_place(order=order, user=user)


def test_complete_refuses_outstanding_lines_unless_accepted(refused, order_with_line, user):
    purchase_order_place(order=order_with_line, user=user)
    with refused("1 line is not fully received"):
        purchase_order_complete(order=order_with_line, user=user)
    done = purchase_order_complete(order=order_with_line, user=user, accept_incomplete=True)
    assert done.status == S.COMPLETE
    assert done.complete_date == timezone.localdate()
    assert done.received_by == user


def test_cancel_message_names_the_allowed_states(refused, order_with_line, user):
    purchase_order_cancel(order=order_with_line, user=user)
    with refused(
        "PO-0001 is Cancelled: it can only be cancelled when Pending or Placed or On hold."
    ):
        purchase_order_cancel(order=order_with_line, user=user)
