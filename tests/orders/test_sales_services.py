"""Sales order services: references, lines, transitions, allocation, shipments, completion.

Rules R51-R56 and R60-R62 of the InvenTree domain reference, and the sales issue.
Refused paths leave the database exactly as it was.
"""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from builds.choices import BuildStatus
from builds.models import BuildItem, BuildLine
from inventory.choices import StockHistoryCode as H
from inventory.models import StockItem, StockItemTracking
from inventory.selectors import parts_with_stock
from orders.choices import SalesOrderStatus as S
from orders.models import (
    Address,
    Contact,
    SalesOrder,
    SalesOrderAllocation,
    SalesOrderExtraLine,
    SalesOrderLine,
    SalesOrderShipment,
)
from orders.selectors.sales import sales_lines_with_allocation, sales_orders_with_figures
from orders.services import sales as services
from tests import factories

pytestmark = pytest.mark.django_db


def D(value) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


def sales_state() -> dict:
    """Everything a refused sales operation must leave exactly as it was."""
    return {
        "orders": list(
            SalesOrder.objects.order_by("pk").values_list(
                "pk", "reference", "status", "issue_date", "shipment_date", "complete_date"
            )
        ),
        "lines": list(
            SalesOrderLine.objects.order_by("pk").values_list(
                "pk", "part_id", "quantity", "unit_price", "shipped"
            )
        ),
        "extra": list(SalesOrderExtraLine.objects.order_by("pk").values_list("pk", "quantity")),
        "allocations": list(
            SalesOrderAllocation.objects.order_by("pk").values_list(
                "pk", "line_id", "item_id", "quantity", "shipment_id"
            )
        ),
        "shipments": list(
            SalesOrderShipment.objects.order_by("pk").values_list(
                "pk", "reference", "shipment_date", "tracking_number"
            )
        ),
        "items": list(
            StockItem.objects.order_by("pk").values_list(
                "pk", "quantity", "location_id", "customer_id", "sales_order_id", "status"
            )
        ),
        "tracking": StockItemTracking.objects.count(),
        "history": (
            SalesOrder.history.count(),
            SalesOrderLine.history.count(),
            SalesOrderAllocation.history.count(),
            SalesOrderShipment.history.count(),
            StockItem.history.count(),
        ),
    }


@contextmanager
def refused(match=None):
    """``with refused("message"): service(...)``: raises ValidationError and changes nothing."""
    before = sales_state()
    with pytest.raises(ValidationError, match=match) as excinfo:
        yield excinfo
    assert sales_state() == before


def reload(obj):
    return type(obj).objects.filter(pk=obj.pk).first()


@pytest.fixture
def user():
    return factories.UserFactory(username="seller")


@pytest.fixture
def customer():
    return factories.CompanyFactory(name="ACME Retail", is_customer=True, currency="USD")


@pytest.fixture
def part():
    return factories.PartFactory(name="Widget", salable=True)


@pytest.fixture
def location():
    return factories.StockLocationFactory(name="Shelf A")


@pytest.fixture
def order(customer, user):
    return services.sales_order_create(customer=customer, user=user)


@pytest.fixture
def line(order, part, user):
    return services.sales_order_add_line(
        order=order, part=part, quantity=25, unit_price=D("2.5"), user=user
    )


def stock(part, quantity, location=None, **kwargs):
    return factories.StockItemFactory(
        part=part, quantity=D(quantity), location=location or factories.StockLocationFactory()
    )


def issued(order, user):
    return services.sales_order_issue(order=order, user=user)


# ---------------------------------------------------------------- create & references


def test_create_allocates_next_reference_and_defaults_currency(customer, user):
    first = services.sales_order_create(customer=customer, user=user, description="Spring order")
    second = services.sales_order_create(customer=customer, user=user)
    assert (first.reference, second.reference) == ("SO-0001", "SO-0002")
    assert (first.reference_int, second.reference_int) == (1, 2)
    assert first.status == S.PENDING
    assert first.currency == "USD"
    assert first.created_by == user
    record = first.history.first()
    assert (record.history_user, record.history_change_reason) == (user, "Created")


def test_next_reference_follows_the_highest_in_use(customer, user):
    services.sales_order_create(customer=customer, user=user, reference="SO-0041")
    assert services.sales_order_create(customer=customer, user=user).reference == "SO-0042"


def test_reference_pattern_is_configurable(settings, customer, user):
    settings.SALES_ORDER_REFERENCE_PATTERN = "S{ref:05d}-X"
    assert services.sales_order_create(customer=customer, user=user).reference == "S00001-X"


def test_reference_not_matching_the_pattern_is_refused(customer, user):
    with refused("does not match the pattern"):
        services.sales_order_create(customer=customer, user=user, reference="ORDER-7")


def test_duplicate_reference_is_refused(order, customer, user):
    with refused("already"):
        services.sales_order_create(customer=customer, user=user, reference=order.reference)


def test_company_that_is_not_a_customer_is_refused(user):
    supplier = factories.CompanyFactory(name="Parts Inc", is_customer=False)
    with refused("not marked as a customer"):
        services.sales_order_create(customer=supplier, user=user)


def test_contact_and_address_must_belong_to_the_customer(customer, user):
    other = factories.CompanyFactory(name="Other Co")
    contact = Contact.objects.create(company=other, name="Olga")
    address = Address.objects.create(company=other, title="HQ", line1="1 Main St")
    with refused("Olga is a contact of Other Co, not of ACME Retail") as excinfo:
        services.sales_order_create(customer=customer, user=user, contact=contact)
    assert "contact" in excinfo.value.message_dict
    with refused("belongs to Other Co"):
        services.sales_order_create(customer=customer, user=user, address=address)
    own = Contact.objects.create(company=customer, name="Carla")
    order = services.sales_order_create(customer=customer, user=user, contact=own)
    assert order.contact == own
    with refused("not of ACME Retail"):
        services.sales_order_update(order=order, user=user, contact=contact)


def test_status_cannot_be_set_at_creation(customer, user):
    with refused("Cannot set status"):
        services.sales_order_create(customer=customer, user=user, status=S.COMPLETE)


# ---------------------------------------------------------------- lines & totals


def test_line_part_must_be_salable_and_physical(order, user):
    not_salable = factories.PartFactory(salable=False)
    virtual = factories.PartFactory(salable=True, virtual=True)
    with refused("not a salable physical part"):
        services.sales_order_add_line(order=order, part=not_salable, quantity=1, user=user)
    with refused("not a salable physical part"):
        services.sales_order_add_line(order=order, part=virtual, quantity=1, user=user)


def test_duplicate_lines_for_a_part_are_allowed(order, part, user):
    services.sales_order_add_line(order=order, part=part, quantity=1, user=user)
    services.sales_order_add_line(order=order, part=part, quantity=2, user=user)
    assert order.lines.filter(part=part).count() == 2


def test_zero_or_negative_line_quantity_is_refused(order, part, user):
    with refused("greater than zero"):
        services.sales_order_add_line(order=order, part=part, quantity=0, user=user)


def test_totals_progress_and_overdue_are_annotations(order, part, user, django_assert_num_queries):
    services.sales_order_add_line(
        order=order, part=part, quantity=10, unit_price=D("2.5"), user=user
    )
    services.sales_order_add_line(
        order=order, part=part, quantity=3, unit_price=D("1.2"), user=user
    )
    services.sales_order_add_line(order=order, part=part, quantity=4, user=user)  # no price
    services.sales_order_add_extra_line(order=order, description="Shipping", price=15, user=user)
    services.sales_order_add_extra_line(
        order=order, description="Discount", quantity=2, price=-5, user=user
    )
    SalesOrderLine.objects.filter(order=order, quantity=3).update(shipped=3)
    empty = services.sales_order_create(customer=order.customer, user=user)
    with django_assert_num_queries(1):
        rows = {o.pk: o for o in sales_orders_with_figures()}
    figures = rows[order.pk]
    assert figures.lines_total == D("28.6")  # 10 × 2.5 + 3 × 1.2
    assert figures.extra_total == D(5)  # 15 − 2 × 5
    assert figures.total_price == D("33.6")
    assert (figures.line_count, figures.lines_shipped) == (3, 1)
    assert (rows[empty.pk].total_price, rows[empty.pk].line_count) == (0, 0)


def test_overdue_means_open_and_target_date_passed(customer, user):
    today = timezone.localdate()
    past, future = today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)
    late = services.sales_order_create(customer=customer, user=user, target_date=past)
    due_today = services.sales_order_create(customer=customer, user=user, target_date=today)
    upcoming = services.sales_order_create(customer=customer, user=user, target_date=future)
    undated = services.sales_order_create(customer=customer, user=user)
    cancelled = services.sales_order_create(customer=customer, user=user, target_date=past)
    services.sales_order_cancel(order=cancelled, user=user)
    flags = dict(sales_orders_with_figures().values_list("pk", "overdue"))
    assert flags == {
        late.pk: True,
        due_today.pk: False,
        upcoming.pk: False,
        undated.pk: False,
        cancelled.pk: False,
    }
    assert late.is_overdue and not reload(cancelled).is_overdue


def test_line_quantity_cannot_go_below_shipped_plus_allocated(order, line, part, user):
    services.sales_order_allocate(line=line, item=stock(part, 50), quantity=10, user=user)
    with refused("cannot go below 10"):
        services.sales_order_update_line(line=line, user=user, quantity=9)
    services.sales_order_update_line(line=line, user=user, quantity=10)
    assert reload(line).quantity == 10


def test_line_with_shipped_stock_cannot_be_deleted(order, line, user):
    SalesOrderLine.objects.filter(pk=line.pk).update(shipped=1)
    with refused("already shipped"):
        services.sales_order_delete_line(line=line, user=user)


def test_deleting_a_line_removes_its_allocations(order, line, part, user):
    services.sales_order_allocate(line=line, item=stock(part, 50), quantity=5, user=user)
    services.sales_order_delete_line(line=line, user=user)
    assert not SalesOrderAllocation.objects.exists()
    assert SalesOrderLine.history.filter(id=line.pk).first().history_type == "-"


# ---------------------------------------------------------------- transitions


def test_issue_hold_and_reissue(order, user):
    services.sales_order_issue(order=order, user=user)
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS
    assert order.issue_date == timezone.localdate()
    record = order.history.first()
    assert (record.history_user, record.history_change_reason) == (user, "Issued (In progress)")
    services.sales_order_hold(order=order, user=user)
    assert reload(order).status == S.ON_HOLD
    services.sales_order_issue(order=order, user=user)
    assert reload(order).status == S.IN_PROGRESS


def test_only_allowed_transitions(order, user):
    issued(order, user)
    with refused("SO-0001 is In progress: it can only be issued when Pending or On hold"):
        services.sales_order_issue(order=order, user=user)
    services.sales_order_cancel(order=order, user=user)
    with refused("can only be put on hold"):
        services.sales_order_hold(order=order, user=user)
    with refused("can only be cancelled"):
        services.sales_order_cancel(order=order, user=user)


def test_cancel_deletes_allocations_and_frees_stock(order, line, part, user):
    item = stock(part, 9)
    services.sales_order_allocate(line=line, item=item, quantity=9, user=user)
    assert parts_with_stock().get(pk=part.pk).available == 0
    services.sales_order_cancel(order=order, user=user)
    assert reload(order).status == S.CANCELLED
    assert not SalesOrderAllocation.objects.exists()
    assert parts_with_stock().get(pk=part.pk).available == 9
    record = SalesOrderAllocation.history.order_by("-history_id").first()
    assert (record.history_type, record.history_user) == ("-", user)


def test_cancelled_order_cannot_ship(order, line, part, user):
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(
        line=line, item=stock(part, 50), quantity=5, user=user, shipment=shipment
    )
    services.sales_order_cancel(order=order, user=user)
    with refused("Cancelled: only orders in progress can ship"):
        services.shipment_complete(shipment=shipment, user=user)


# ---------------------------------------------------------------- allocation


def test_allocations_across_orders_never_exceed_the_item(part, customer, user):
    item = stock(part, 9)
    lines = []
    for _ in range(4):
        order = services.sales_order_create(customer=customer, user=user)
        lines.append(services.sales_order_add_line(order=order, part=part, quantity=3, user=user))
    for line in lines[:3]:
        services.sales_order_allocate(line=line, item=item, quantity=3, user=user)
    with refused(r"Only 0 of 9 × Widget is unallocated \(9 of 9 already allocated\)"):
        services.sales_order_allocate(line=lines[3], item=item, quantity=1, user=user)


def test_build_allocations_count_against_the_item(order, line, part, user):
    item = stock(part, 10)
    build = factories.BuildOrderFactory(status=BuildStatus.PRODUCTION)
    build_line = BuildLine.objects.create(
        build=build,
        bom_item=factories.BomItemFactory(part=build.part, sub_part=part),
        quantity=6,
    )
    BuildItem.objects.create(build_line=build_line, stock_item=item, quantity=6)
    with refused(
        r"Only 4 of 10 × Widget is unallocated \(6 of 10 already allocated\): cannot allocate 5"
    ):
        services.sales_order_allocate(line=line, item=item, quantity=5, user=user)
    allocation = services.sales_order_allocate(line=line, item=item, quantity=4, user=user)
    assert allocation.quantity == 4


def test_allocating_again_increases_the_allocation(order, line, part, user):
    item = stock(part, 20)
    first = services.sales_order_allocate(line=line, item=item, quantity=5, user=user)
    second = services.sales_order_allocate(line=line, item=item, quantity=3, user=user)
    assert first.pk == second.pk and reload(first).quantity == 8
    with refused("Only 12 of 20 × Widget is unallocated"):
        services.sales_order_allocate(line=line, item=item, quantity=13, user=user)


def test_line_is_never_allocated_more_than_it_needs(order, line, part, user):
    item = stock(part, 100)
    with refused("needs only 25 more: cannot allocate 26"):
        services.sales_order_allocate(line=line, item=item, quantity=26, user=user)


def test_variant_stock_can_be_allocated_other_parts_cannot(order, user):
    template = factories.PartFactory(name="T-shirt", salable=True, is_template=True)
    variant = factories.PartFactory(name="T-shirt red", salable=True, variant_of=template)
    line = services.sales_order_add_line(order=order, part=template, quantity=5, user=user)
    allocation = services.sales_order_allocate(
        line=line, item=stock(variant, 5), quantity=5, user=user
    )
    assert allocation.item.part == variant
    assert sales_lines_with_allocation().get(pk=line.pk).allocated == 5
    variant_line = services.sales_order_add_line(order=order, part=variant, quantity=1, user=user)
    template_stock = stock(template, 5)
    with refused("is not T-shirt red or a variant of it"):
        services.sales_order_allocate(line=variant_line, item=template_stock, quantity=1, user=user)


def test_serialized_item_is_allocated_as_exactly_one(order, user):
    board = factories.PartFactory(name="Board", salable=True, trackable=True)
    line = services.sales_order_add_line(order=order, part=board, quantity=3, user=user)
    unit = factories.StockItemFactory(part=board, quantity=1, serial="17")
    with refused("serialized: allocate exactly 1"):
        services.sales_order_allocate(line=line, item=unit, quantity=D("0.5"), user=user)
    with refused("serialized: allocate exactly 1"):
        services.sales_order_allocate(line=line, item=unit, quantity=2, user=user)
    assert services.sales_order_allocate(line=line, item=unit, quantity=1, user=user).quantity == 1


def test_stock_not_in_stock_cannot_be_allocated(order, line, part, customer, user):
    item = stock(part, 10)
    StockItem.objects.filter(pk=item.pk).update(customer=customer, location=None)
    with refused("not in stock"):
        services.sales_order_allocate(line=line, item=item, quantity=1, user=user)


def test_shipment_must_belong_to_the_order(order, line, part, customer, user):
    other = services.sales_order_create(customer=customer, user=user)
    shipment = services.shipment_create(order=other, user=user)
    item = stock(part, 10)
    with refused("belongs to another order"):
        services.sales_order_allocate(
            line=line, item=item, quantity=1, user=user, shipment=shipment
        )


def test_closed_order_cannot_allocate(order, line, part, user):
    services.sales_order_cancel(order=order, user=user)
    item = stock(part, 10)
    with refused("Cancelled: stock can no longer be allocated"):
        services.sales_order_allocate(line=line, item=item, quantity=1, user=user)


def test_unallocate_part_or_all(order, line, part, user):
    allocation = services.sales_order_allocate(
        line=line, item=stock(part, 10), quantity=6, user=user
    )
    with refused("Only 6 is allocated: cannot release 7"):
        services.sales_order_unallocate(allocation=allocation, user=user, quantity=7)
    assert (
        services.sales_order_unallocate(allocation=allocation, user=user, quantity=2).quantity == 4
    )
    assert services.sales_order_unallocate(allocation=allocation, user=user) is None
    assert not SalesOrderAllocation.objects.exists()


def test_auto_allocate_takes_only_unambiguous_stock(order, part, user, customer):
    single = factories.PartFactory(name="Single", salable=True)
    double = factories.PartFactory(name="Double", salable=True)
    none = factories.PartFactory(name="None", salable=True)
    line_a = services.sales_order_add_line(order=order, part=single, quantity=8, user=user)
    services.sales_order_add_line(order=order, part=double, quantity=2, user=user)
    services.sales_order_add_line(order=order, part=none, quantity=2, user=user)
    only = stock(single, 5)
    stock(double, 5), stock(double, 5)
    shipment = services.shipment_create(order=order, user=user)
    result = services.sales_order_auto_allocate(order=order, user=user)
    assert [(a.line_id, a.item_id, a.quantity, a.shipment_id) for a in result.allocations] == [
        (line_a.pk, only.pk, 5, shipment.pk)
    ]
    assert result.skipped == [
        "Double: 2 stock items to choose from",
        "None: no unallocated stock",
    ]
    # nothing more is free for Single: a second run allocates nothing new
    again = services.sales_order_auto_allocate(order=order, user=user)
    assert again.allocations == []
    assert SalesOrderAllocation.objects.get().quantity == 5


def test_auto_allocate_skips_items_held_elsewhere(order, part, customer, user):
    services.sales_order_add_line(order=order, part=part, quantity=4, user=user)
    held, free = stock(part, 3), stock(part, 10)
    other = services.sales_order_create(customer=customer, user=user)
    other_line = services.sales_order_add_line(order=other, part=part, quantity=3, user=user)
    services.sales_order_allocate(line=other_line, item=held, quantity=3, user=user)
    result = services.sales_order_auto_allocate(order=order, user=user)
    assert [(a.item_id, a.quantity, a.shipment_id) for a in result.allocations] == [
        (free.pk, 4, None)
    ]


# ---------------------------------------------------------------- shipments


def test_shipment_references_count_up_and_are_unique_per_order(order, customer, user):
    first = services.shipment_create(order=order, user=user)
    second = services.shipment_create(order=order, user=user, tracking_number="TRK")
    assert (first.reference, second.reference, second.tracking_number) == ("1", "2", "TRK")
    with refused("already has a shipment with this reference"):
        services.shipment_create(order=order, user=user, reference="2")
    other = services.sales_order_create(customer=customer, user=user)
    assert services.shipment_create(order=other, user=user, reference="2").reference == "2"


def test_empty_shipment_cannot_ship(order, user):
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    with refused("has no allocated stock: nothing to ship"):
        services.shipment_complete(shipment=shipment, user=user)


def test_pending_order_cannot_ship(order, line, part, user):
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(
        line=line, item=stock(part, 30), quantity=5, user=user, shipment=shipment
    )
    with refused("SO-0001 is Pending: only orders in progress can ship"):
        services.shipment_complete(shipment=shipment, user=user)


def test_ship_and_complete_two_lines(order, customer, user, location):
    """R54: two lines of 25 from items of 100 and 200 → originals 75/175, two customer items of 25."""
    part_a = factories.PartFactory(name="Alpha", salable=True)
    part_b = factories.PartFactory(name="Beta", salable=True)
    item_a, item_b = stock(part_a, 100, location), stock(part_b, 200, location)
    line_a = services.sales_order_add_line(order=order, part=part_a, quantity=25, user=user)
    line_b = services.sales_order_add_line(order=order, part=part_b, quantity=25, user=user)
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    alloc_a = services.sales_order_allocate(
        line=line_a, item=item_a, quantity=25, user=user, shipment=shipment
    )
    services.sales_order_allocate(
        line=line_b, item=item_b, quantity=25, user=user, shipment=shipment
    )
    assert parts_with_stock().get(pk=part_a.pk).available == 75

    with refused("shipment 1 is not shipped yet"):
        services.sales_order_complete(order=order, user=user)

    services.shipment_complete(
        shipment=shipment, user=user, tracking_number="1Z999", invoice_number="INV-7"
    )
    shipment.refresh_from_db()
    assert shipment.shipment_date == timezone.localdate()
    assert (shipment.tracking_number, shipment.invoice_number) == ("1Z999", "INV-7")
    assert shipment.history.first().history_user == user
    item_a.refresh_from_db(), item_b.refresh_from_db()
    assert (item_a.quantity, item_b.quantity) == (75, 175)
    assert (item_a.customer, item_a.location) == (None, location)
    sent = list(StockItem.objects.filter(customer=customer).order_by("part__name"))
    assert [(i.part, i.quantity, i.sales_order, i.location, i.parent) for i in sent] == [
        (part_a, 25, order, None, item_a),
        (part_b, 25, order, None, item_b),
    ]
    assert not sent[0].is_in_stock
    assert reload(alloc_a).item == sent[0]  # the allocation follows the shipped stock
    assert [reload(line_a).shipped, reload(line_b).shipped] == [25, 25]
    assert parts_with_stock().get(pk=part_a.pk).in_stock == 75
    assert parts_with_stock().get(pk=part_a.pk).available == 75
    codes = list(sent[0].tracking.order_by("pk").values_list("tracking_type", flat=True))
    assert codes == [H.SPLIT_FROM_PARENT, H.SENT_TO_CUSTOMER, H.SHIPPED_AGAINST_SALES_ORDER]
    entry = sent[0].tracking.get(tracking_type=H.SHIPPED_AGAINST_SALES_ORDER)
    assert entry.user == user
    assert entry.notes == "Shipped against SO-0001 (shipment 1)"
    assert entry.deltas == {
        "sales_order": "SO-0001",
        "shipment": "1",
        "customer": customer.pk,
        "customer_name": "ACME Retail",
        "quantity": "25",
    }
    assert sent[0].history.first().history_change_reason == "Shipped against SO-0001"

    with refused("already shipped"):
        services.shipment_complete(shipment=shipment, user=user)

    services.sales_order_complete(order=order, user=user)
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert (order.shipment_date, order.shipped_by) == (timezone.localdate(), user)
    assert order.history.first().history_change_reason == "Completed (Shipped)"
    services.sales_order_complete(order=order, user=user)
    order.refresh_from_db()
    assert (order.status, order.complete_date) == (S.COMPLETE, timezone.localdate())
    with refused("SO-0001 is Complete: it can only be completed when In progress or Shipped"):
        services.sales_order_complete(order=order, user=user)


def test_whole_item_ships_without_split(order, line, part, customer, user):
    item = stock(part, 25)
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(line=line, item=item, quantity=25, user=user, shipment=shipment)
    services.shipment_complete(shipment=shipment, user=user)
    item.refresh_from_db()
    assert (item.quantity, item.customer, item.sales_order, item.location) == (
        25,
        customer,
        order,
        None,
    )
    assert StockItem.objects.count() == 1


def test_two_allocations_from_one_item_in_one_shipment(order, part, customer, user):
    item = stock(part, 10)
    first = services.sales_order_add_line(order=order, part=part, quantity=3, user=user)
    second = services.sales_order_add_line(order=order, part=part, quantity=7, user=user)
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(line=first, item=item, quantity=3, user=user, shipment=shipment)
    services.sales_order_allocate(line=second, item=item, quantity=7, user=user, shipment=shipment)
    services.shipment_complete(shipment=shipment, user=user)
    assert sorted(
        StockItem.objects.filter(customer=customer).values_list("quantity", flat=True)
    ) == [
        3,
        7,
    ]
    assert not StockItem.objects.in_stock().filter(part=part).exists()


def test_shipping_more_than_left_in_the_item_is_refused(order, line, part, user):
    item = stock(part, 10)
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(line=line, item=item, quantity=8, user=user, shipment=shipment)
    StockItem.objects.filter(pk=item.pk).update(quantity=5)  # counted down meanwhile
    with refused(r"Stock item \d+ \(Widget\) has only 5 left: cannot ship the 8 allocated"):
        services.shipment_complete(shipment=shipment, user=user)


def test_complete_refused_with_unshipped_allocations_or_short_lines(order, line, part, user):
    issued(order, user)
    allocation = services.sales_order_allocate(
        line=line, item=stock(part, 30), quantity=5, user=user
    )
    with refused("1 allocation is not shipped"):
        services.sales_order_complete(order=order, user=user, accept_incomplete=True)
    services.sales_order_unallocate(allocation=allocation, user=user)
    with refused(r"lines not fully shipped: Widget \(0 of 25\)"):
        services.sales_order_complete(order=order, user=user)
    services.sales_order_complete(order=order, user=user, accept_incomplete=True)
    assert reload(order).status == S.SHIPPED


def test_ship_complete_setting_goes_straight_to_complete(settings, order, user):
    settings.SALES_ORDER_SHIP_COMPLETE = True
    issued(order, user)
    services.sales_order_complete(order=order, user=user)
    assert reload(order).status == S.COMPLETE


def test_pending_order_cannot_complete(order, user):
    with refused("Pending: it can only be completed when In progress or Shipped"):
        services.sales_order_complete(order=order, user=user)


def test_shipment_with_allocations_can_be_deleted_allocations_stay(order, line, part, user):
    shipment = services.shipment_create(order=order, user=user)
    allocation = services.sales_order_allocate(
        line=line, item=stock(part, 10), quantity=4, user=user, shipment=shipment
    )
    services.shipment_delete(shipment=shipment, user=user)
    assert reload(allocation).shipment is None
    second = services.shipment_create(order=order, user=user)
    assert services.shipment_add_allocations(shipment=second, user=user) == 1
    assert reload(allocation).shipment == second


def test_shipped_shipment_cannot_be_deleted(order, line, part, user):
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(
        line=line, item=stock(part, 10), quantity=4, user=user, shipment=shipment
    )
    services.shipment_complete(shipment=shipment, user=user)
    with refused("has shipped: it cannot be deleted"):
        services.shipment_delete(shipment=shipment, user=user)


def test_order_with_shipped_stock_cannot_be_deleted(order, line, part, user):
    issued(order, user)
    shipment = services.shipment_create(order=order, user=user)
    services.sales_order_allocate(
        line=line, item=stock(part, 10), quantity=4, user=user, shipment=shipment
    )
    services.shipment_complete(shipment=shipment, user=user)
    with refused("has shipped stock"):
        services.sales_order_delete(order=order, user=user)


def test_closed_order_only_notes_change(order, user):
    services.sales_order_cancel(order=order, user=user)
    with refused("only its notes can be changed"):
        services.sales_order_update(order=order, user=user, description="new")
    services.sales_order_update(order=order, user=user, notes="called the customer")
    assert reload(order).notes == "called the customer"
