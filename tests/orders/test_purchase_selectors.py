"""Purchase order selectors (totals, progress, overdue — R61, R62) and parts' on-order
quantity (R50), each computed in one query."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.selectors import parts_with_stock
from orders.choices import PurchaseOrderStatus as S
from orders.models import PurchaseOrder, PurchaseOrderLine
from orders.selectors import (
    open_purchase_order_lines,
    purchase_order_totals,
    purchase_orders_with_totals,
)
from orders.selectors.companies import companies_with_counts, supplier_parts_with_on_order
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def order():
    order = factories.PurchaseOrderFactory(currency="EUR")
    factories.PurchaseOrderLineFactory(order=order, quantity=3, unit_price=Decimal("12.50"))
    factories.PurchaseOrderLineFactory(order=order, quantity=2, unit_price=None, received=2)
    factories.PurchaseOrderExtraLineFactory(order=order, quantity=1, price=Decimal("5"))
    factories.PurchaseOrderExtraLineFactory(order=order, quantity=2, price=Decimal("-1.5"))
    return order


def test_totals_and_progress(order):
    figures = purchase_order_totals(order)
    assert figures == {
        "line_count": 2,
        "lines_received": 1,
        "lines_total": Decimal("37.5"),  # 3 × 12.50 (+ 2 × no price)
        "extra_total": Decimal("2"),  # 1 × 5 + 2 × -1.5
        "total_price": Decimal("39.5"),
        "overdue": False,
    }


def test_order_without_lines_totals_zero():
    empty = factories.PurchaseOrderFactory()
    figures = purchase_order_totals(empty)
    assert (figures["line_count"], figures["lines_received"], figures["total_price"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("status", "target", "overdue"),
    [
        (S.PENDING, YESTERDAY, True),
        (S.PLACED, YESTERDAY, True),
        (S.ON_HOLD, YESTERDAY, True),
        (S.PLACED, TODAY, False),
        (S.PLACED, None, False),
        (S.COMPLETE, YESTERDAY, False),
        (S.CANCELLED, YESTERDAY, False),
    ],
)
def test_overdue_annotation_matches_the_model_property(status, target, overdue):
    order = factories.PurchaseOrderFactory(status=status, target_date=target)
    annotated = purchase_orders_with_totals().get(pk=order.pk)
    assert annotated.overdue is overdue
    assert order.is_overdue is overdue


def test_list_annotations_cost_one_query(django_assert_num_queries):
    for _ in range(5):
        line = factories.PurchaseOrderLineFactory()
        factories.PurchaseOrderExtraLineFactory(order=line.order)
    with django_assert_num_queries(1):
        rows = [
            (o.reference, o.line_count, o.total_price, o.overdue)
            for o in purchase_orders_with_totals()
        ]
    assert len(rows) == 5
    assert all(r[1] == 1 and r[2] == Decimal(25) for r in rows)  # 10 × 2 + 1 × 5


def test_open_lines_are_those_not_fully_received(order):
    open_lines = list(open_purchase_order_lines(order))
    assert [(ln.quantity, ln.outstanding_packs) for ln in open_lines] == [(3, 3)]


def test_on_order_counts_open_orders_in_part_units():
    part = factories.PartFactory()
    reel = factories.SupplierPartFactory(part=part, pack_quantity=100)
    single = factories.SupplierPartFactory(part=part, pack_quantity=1)

    def line(status, supplier_part, quantity, received=0):
        order = factories.PurchaseOrderFactory(status=status, supplier=supplier_part.supplier)
        return factories.PurchaseOrderLineFactory(
            order=order, supplier_part=supplier_part, quantity=quantity, received=received
        )

    line(S.PLACED, reel, 3, received=1)  # 2 reels outstanding → 200
    line(S.PENDING, single, 5)  # 5
    line(S.ON_HOLD, single, 2, received=Decimal("0.5"))  # 1.5
    line(S.PLACED, single, 2, received=3)  # over-received: nothing (not negative)
    line(S.COMPLETE, reel, 4)  # closed orders do not count
    line(S.CANCELLED, single, 7)
    other_part = factories.PartFactory()
    factories.PurchaseOrderLineFactory(
        supplier_part=factories.SupplierPartFactory(part=other_part), quantity=9
    )
    figures = {p.pk: p.on_order for p in parts_with_stock()}
    assert figures[part.pk] == Decimal("206.5")
    assert figures[other_part.pk] == 9
    assert parts_with_stock().get(pk=factories.PartFactory().pk).on_order == 0


def test_supplier_part_on_order_in_packs():
    reel = factories.SupplierPartFactory(pack_quantity=100)
    factories.PurchaseOrderLineFactory(
        order=factories.PurchaseOrderFactory(supplier=reel.supplier, status=S.PLACED),
        supplier_part=reel,
        quantity=3,
        received=1,
    )
    assert supplier_parts_with_on_order().get(pk=reel.pk).on_order == 2


def test_companies_with_counts():
    supplier = factories.SupplierFactory()
    factories.SupplierPartFactory.create_batch(2, supplier=supplier)
    factories.PurchaseOrderFactory(supplier=supplier, status=S.PLACED)
    factories.PurchaseOrderFactory(supplier=supplier, status=S.COMPLETE)
    row = companies_with_counts().get(pk=supplier.pk)
    assert (row.supplier_part_count, row.open_purchase_orders) == (2, 1)
    assert PurchaseOrder.objects.count() == 2 and PurchaseOrderLine.objects.count() == 0
