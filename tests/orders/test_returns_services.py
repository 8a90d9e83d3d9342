"""Return order services: lines for stock the customer has, transitions, receiving.

Rules R57-R61 of the InvenTree domain reference, and the returns issue.
Refused paths leave the database exactly as it was.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.choices import StockHistoryCode as H
from inventory.choices import StockStatus
from inventory.models import StockItem, StockItemTracking
from orders.choices import ReturnLineOutcome as O
from orders.choices import ReturnOrderStatus as R
from orders.models import Contact, ReturnOrder, ReturnOrderLine
from orders.selectors.returns import return_orders_with_figures
from orders.services import returns as services
from orders.services import sales as sales_services
from tests import factories

pytestmark = pytest.mark.django_db


def returns_state() -> dict:
    return {
        "orders": list(
            ReturnOrder.objects.order_by("pk").values_list(
                "pk", "reference", "status", "issue_date", "complete_date"
            )
        ),
        "lines": list(
            ReturnOrderLine.objects.order_by("pk").values_list(
                "pk", "item_id", "quantity", "outcome", "price", "received_date"
            )
        ),
        "items": list(
            StockItem.objects.order_by("pk").values_list(
                "pk", "quantity", "location_id", "customer_id", "sales_order_id", "status"
            )
        ),
        "tracking": StockItemTracking.objects.count(),
        "history": (
            ReturnOrder.history.count(),
            ReturnOrderLine.history.count(),
            StockItem.history.count(),
        ),
    }


@contextmanager
def refused(match=None):
    before = returns_state()
    with pytest.raises(ValidationError, match=match) as excinfo:
        yield excinfo
    assert returns_state() == before


def reload(obj):
    return type(obj).objects.filter(pk=obj.pk).first()


@pytest.fixture
def user():
    return factories.UserFactory(username="returns-desk")


@pytest.fixture
def customer():
    return factories.CompanyFactory(name="ACME Retail", is_customer=True)


@pytest.fixture
def other_customer():
    return factories.CompanyFactory(name="Other Retail", is_customer=True)


@pytest.fixture
def part():
    return factories.PartFactory(name="Widget", salable=True)


@pytest.fixture
def quarantine():
    return factories.StockLocationFactory(name="Quarantine")


def with_customer(part, customer, quantity=10, **kwargs):
    return factories.StockItemFactory(
        part=part, quantity=Decimal(quantity), customer=customer, location=None, **kwargs
    )


@pytest.fixture
def order(customer, user):
    return services.return_order_create(customer=customer, user=user)


@pytest.fixture
def item(part, customer):
    return with_customer(part, customer)


@pytest.fixture
def line(order, item, user):
    return services.return_order_add_line(
        order=order, item=item, user=user, outcome=O.REPAIR, price=Decimal("12.5")
    )


# ---------------------------------------------------------------- create


def test_create_allocates_rma_references(customer, user):
    first = services.return_order_create(customer=customer, user=user)
    second = services.return_order_create(customer=customer, user=user)
    assert (first.reference, second.reference) == ("RMA-0001", "RMA-0002")
    assert first.status == R.PENDING
    assert first.history.first().history_user == user


def test_reference_must_match_the_pattern(customer, user):
    with refused("does not match the pattern"):
        services.return_order_create(customer=customer, user=user, reference="SO-0001")


def test_contact_of_another_company_is_refused(customer, other_customer, user):
    contact = Contact.objects.create(company=other_customer, name="Olga")
    with refused("Olga is a contact of Other Retail, not of ACME Retail"):
        services.return_order_create(customer=customer, user=user, contact=contact)


# ---------------------------------------------------------------- lines


def test_line_defaults_to_the_whole_item(line, item):
    assert (line.item, line.quantity, line.outcome, line.price) == (
        item,
        10,
        O.REPAIR,
        Decimal("12.5"),
    )


def test_item_must_be_with_that_customer(order, part, other_customer, user):
    elsewhere = with_customer(part, other_customer)
    in_stock = factories.StockItemFactory(part=part, quantity=5)
    with refused("is with Other Retail, not with ACME Retail"):
        services.return_order_add_line(order=order, item=elsewhere, user=user)
    with refused("is not with a customer"):
        services.return_order_add_line(order=order, item=in_stock, user=user)


def test_one_line_per_item(order, line, item, user):
    with refused("already on RMA-0001"):
        services.return_order_add_line(order=order, item=item, user=user, quantity=1)


def test_item_already_being_returned_on_another_order(order, line, item, customer, user):
    second = services.return_order_create(customer=customer, user=user)
    with refused("already being returned on RMA-0001"):
        services.return_order_add_line(order=second, item=item, user=user)


def test_quantity_limits_and_serialized_items(order, part, customer, user):
    item = with_customer(part, customer, quantity=3)
    board = factories.PartFactory(name="Board", trackable=True)
    unit = with_customer(board, customer, quantity=1, serial="5")
    with refused("has only 3: cannot return 4"):
        services.return_order_add_line(order=order, item=item, user=user, quantity=4)
    with refused("greater than zero"):
        services.return_order_add_line(order=order, item=item, user=user, quantity=0)
    with refused("serialized: return exactly 1"):
        services.return_order_add_line(order=order, item=unit, user=user, quantity="0.5")
    assert services.return_order_add_line(order=order, item=unit, user=user).quantity == 1


def test_totals_progress_and_overdue(order, line, part, customer, user):
    second = with_customer(part, customer, quantity=2)
    services.return_order_add_line(order=order, item=second, user=user, price=Decimal(3))
    third = with_customer(part, customer, quantity=1)
    services.return_order_add_line(order=order, item=third, user=user)  # no price
    ReturnOrderLine.objects.filter(pk=line.pk).update(received_date=timezone.localdate())
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    services.return_order_update(order=order, user=user, target_date=yesterday)
    figures = return_orders_with_figures().get(pk=order.pk)
    assert figures.total_price == Decimal("131")  # 10 × 12.5 + 2 × 3
    assert (figures.line_count, figures.lines_received, figures.overdue) == (3, 1, True)
    services.return_order_cancel(order=order, user=user)
    assert return_orders_with_figures().get(pk=order.pk).overdue is False


# ---------------------------------------------------------------- transitions


def test_transitions(order, user):
    services.return_order_hold(order=order, user=user)
    assert reload(order).status == R.ON_HOLD
    services.return_order_issue(order=order, user=user)
    order.refresh_from_db()
    assert (order.status, order.issue_date) == (R.IN_PROGRESS, timezone.localdate())
    record = order.history.first()
    assert (record.history_user, record.history_change_reason) == (user, "Issued (In progress)")
    services.return_order_complete(order=order, user=user)
    order.refresh_from_db()
    assert (order.status, order.complete_date) == (R.COMPLETE, timezone.localdate())
    with refused("can only be cancelled"):
        services.return_order_cancel(order=order, user=user)


def test_complete_only_from_in_progress(order, user):
    with refused("RMA-0001 is Pending: it can only be completed when In progress"):
        services.return_order_complete(order=order, user=user)


def test_complete_refused_while_lines_are_not_received(order, line, user):
    services.return_order_issue(order=order, user=user)
    with refused(r"not received yet: 10 × Widget"):
        services.return_order_complete(order=order, user=user)
    services.return_order_complete(order=order, user=user, accept_incomplete=True)
    assert reload(order).status == R.COMPLETE


def test_cancel_while_open(order, user):
    services.return_order_cancel(order=order, user=user)
    assert reload(order).status == R.CANCELLED
    with refused("can only be issued"):
        services.return_order_issue(order=order, user=user)


# ---------------------------------------------------------------- receiving


def test_receive_line_into_quarantine(order, line, item, quarantine, user):
    services.return_order_issue(order=order, user=user)
    services.return_order_receive_line(line=line, location=quarantine, user=user)
    item.refresh_from_db()
    assert (item.quantity, item.location, item.customer, item.sales_order, item.status) == (
        10,
        quarantine,
        None,
        None,
        StockStatus.QUARANTINED,
    )
    assert not item.is_in_stock  # quarantined stock is not available
    line.refresh_from_db()
    assert line.received_date == timezone.localdate()
    assert line.history.first().history_user == user
    entry = item.tracking.get(tracking_type=H.RETURNED_AGAINST_RETURN_ORDER)
    assert entry.user == user
    assert entry.notes == "Returned against RMA-0001"
    assert entry.deltas == {
        "return_order": "RMA-0001",
        "quantity": "10",
        "status": StockStatus.QUARANTINED,
        "previous_status": StockStatus.OK,
        "location": quarantine.pk,
        "location_path": "Quarantine",
    }
    assert item.history.first().history_change_reason == "Returned against RMA-0001"


def test_receiving_twice_is_refused(order, line, quarantine, user):
    services.return_order_issue(order=order, user=user)
    services.return_order_receive_line(line=line, location=quarantine, user=user)
    with refused("already received against RMA-0001"):
        services.return_order_receive_line(line=line, location=quarantine, user=user)


def test_receiving_needs_an_order_in_progress(order, line, quarantine, user):
    with refused("RMA-0001 is Pending: stock can only be received against orders in progress"):
        services.return_order_receive_line(line=line, location=quarantine, user=user)


def test_receive_with_a_chosen_status(order, line, item, quarantine, user):
    services.return_order_issue(order=order, user=user)
    services.return_order_receive_line(
        line=line, location=quarantine, user=user, status=StockStatus.OK, notes="as new"
    )
    item.refresh_from_db()
    assert item.status == StockStatus.OK and item.is_in_stock
    assert item.tracking.get(tracking_type=H.RETURNED_AGAINST_RETURN_ORDER).notes == "as new"


def test_structural_location_is_refused(order, line, user):
    services.return_order_issue(order=order, user=user)
    structural = factories.StockLocationFactory(name="Building", structural=True)
    with refused("structural"):
        services.return_order_receive_line(line=line, location=structural, user=user)


def test_partial_return_splits_the_item(order, part, customer, quarantine, user):
    item = with_customer(part, customer, quantity=10)
    line = services.return_order_add_line(order=order, item=item, user=user, quantity=4)
    services.return_order_issue(order=order, user=user)
    services.return_order_receive_line(line=line, location=quarantine, user=user)
    line.refresh_from_db()
    item.refresh_from_db()
    back = line.item
    assert back.pk != item.pk and back.parent == item
    assert (back.quantity, back.location, back.customer) == (4, quarantine, None)
    assert (item.quantity, item.customer, item.location) == (6, customer, None)


def test_item_no_longer_with_the_customer_is_refused(order, line, item, quarantine, user):
    services.return_order_issue(order=order, user=user)
    StockItem.objects.filter(pk=item.pk).update(customer=None, location=quarantine)
    with refused("is not with a customer, not with ACME Retail"):
        services.return_order_receive_line(line=line, location=quarantine, user=user)


def test_received_line_keeps_quantity_and_cannot_be_deleted(order, line, quarantine, user):
    services.return_order_issue(order=order, user=user)
    services.return_order_receive_line(line=line, location=quarantine, user=user)
    with refused("its quantity can no longer change"):
        services.return_order_update_line(line=line, user=user, quantity=5)
    with refused("the line cannot be deleted"):
        services.return_order_delete_line(line=line, user=user)
    services.return_order_update_line(line=line, user=user, outcome=O.REFUND)
    assert reload(line).outcome == O.REFUND


def test_shipped_stock_comes_back_with_sales_order_cleared(customer, part, quarantine, user):
    shelf = factories.StockLocationFactory(name="Shelf")
    stock = factories.StockItemFactory(part=part, quantity=Decimal(10), location=shelf)
    sales = sales_services.sales_order_create(customer=customer, user=user)
    sales_line = sales_services.sales_order_add_line(order=sales, part=part, quantity=4, user=user)
    sales_services.sales_order_issue(order=sales, user=user)
    shipment = sales_services.shipment_create(order=sales, user=user)
    sales_services.sales_order_allocate(
        line=sales_line, item=stock, quantity=4, user=user, shipment=shipment
    )
    sales_services.shipment_complete(shipment=shipment, user=user)
    shipped = StockItem.objects.get(customer=customer)
    assert shipped.sales_order == sales

    rma = services.return_order_create(customer=customer, user=user)
    line = services.return_order_add_line(order=rma, item=shipped, user=user, outcome=O.RETURN)
    services.return_order_issue(order=rma, user=user)
    services.return_order_receive_line(line=line, location=shelf, user=user, status=StockStatus.OK)
    shipped.refresh_from_db()
    assert (shipped.customer, shipped.sales_order, shipped.location, shipped.quantity) == (
        None,
        None,
        shelf,
        4,
    )
    assert shipped.is_in_stock
    entry = shipped.tracking.get(tracking_type=H.RETURNED_AGAINST_RETURN_ORDER)
    assert entry.deltas["sales_order"] == sales.reference
    assert StockItem.objects.in_stock().filter(part=part).count() == 2
