"""Allocated stock is counted from every registered allocation source, in one place."""

from decimal import Decimal

import pytest

from builds.choices import BuildStatus
from builds.models import BuildItem, BuildLine
from inventory.allocations import allocated_by_item, allocated_by_part, allocation_sources
from inventory.choices import StockStatus
from inventory.selectors import parts_with_stock
from orders.choices import SalesOrderStatus
from orders.models import SalesOrder, SalesOrderAllocation, SalesOrderLine, SalesOrderShipment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    part = factories.PartFactory(salable=True)
    return part, factories.StockItemFactory(part=part, quantity=Decimal(100))


def build_allocation(item, quantity, status=BuildStatus.PRODUCTION):
    build = factories.BuildOrderFactory(status=status)
    line = BuildLine.objects.create(
        build=build,
        bom_item=factories.BomItemFactory(part=build.part, sub_part=item.part),
        quantity=quantity,
    )
    return BuildItem.objects.create(build_line=line, stock_item=item, quantity=quantity)


def sales_allocation(item, quantity, status=SalesOrderStatus.IN_PROGRESS, shipped=False):
    order = SalesOrder.objects.create(
        reference=f"SO-{SalesOrder.objects.count() + 1:04d}",
        customer=factories.CompanyFactory(),
        status=status,
    )
    line = SalesOrderLine.objects.create(order=order, part=item.part, quantity=quantity)
    shipment = SalesOrderShipment.objects.create(
        order=order, shipment_date="2026-01-01" if shipped else None
    )
    return SalesOrderAllocation.objects.create(
        line=line, item=item, quantity=quantity, shipment=shipment
    )


def test_both_apps_register_their_allocations():
    assert {s.model for s in allocation_sources()} == {
        "builds.BuildItem",
        "orders.SalesOrderAllocation",
    }


def test_active_builds_and_open_unshipped_sales_hold_stock(stock):
    part, item = stock
    build_allocation(item, Decimal(10))
    sales_allocation(item, Decimal(5))
    build_allocation(item, Decimal(7), status=BuildStatus.COMPLETE)  # released
    sales_allocation(item, Decimal(3), status=SalesOrderStatus.CANCELLED)  # released
    sales_allocation(item, Decimal(2), shipped=True)  # gone with the shipment
    assert allocated_by_item([item.pk]) == {item.pk: Decimal(15)}
    assert allocated_by_part([part.pk]) == {part.pk: Decimal(15)}
    annotated = parts_with_stock().get(pk=part.pk)
    assert (annotated.in_stock, annotated.allocated, annotated.available) == (100, 15, 85)


def test_allocations_on_items_not_in_stock_do_not_reduce_available(stock):
    part, item = stock
    lost = factories.StockItemFactory(part=part, quantity=Decimal(4), status=StockStatus.LOST)
    build_allocation(lost, Decimal(4))
    annotated = parts_with_stock().get(pk=part.pk)
    assert (annotated.in_stock, annotated.allocated, annotated.available) == (100, 0, 100)
    assert allocated_by_item([lost.pk]) == {lost.pk: Decimal(4)}


def test_exclude_leaves_out_the_allocation_being_edited(stock):
    _, item = stock
    row = build_allocation(item, Decimal(10))
    sales_allocation(item, Decimal(5))
    assert allocated_by_item([item.pk], exclude=[("builds.BuildItem", row.pk)]) == {
        item.pk: Decimal(5)
    }


def test_can_build_subtracts_stock_allocated_to_sales_orders():
    from builds.selectors import can_build

    component = factories.PartFactory(salable=True)
    assembly = factories.PartFactory(assembly=True)
    factories.BomItemFactory(part=assembly, sub_part=component, quantity=10)
    item = factories.StockItemFactory(part=component, quantity=Decimal(1000))
    assert can_build(assembly) == 100
    sales_allocation(item, Decimal(500))
    assert can_build(assembly) == 50
    build_allocation(item, Decimal(200))
    assert can_build(assembly) == 30


def test_allocated_by_part_reads_every_source_in_one_query(stock, django_assert_num_queries):
    part, item = stock
    other = factories.PartFactory(salable=True)
    other_item = factories.StockItemFactory(part=other, quantity=Decimal(50))
    lost = factories.StockItemFactory(part=part, quantity=Decimal(4), status=StockStatus.LOST)
    build_allocation(item, Decimal(10))
    sales_allocation(item, Decimal(5))
    build_allocation(lost, Decimal(4))  # not in stock: not counted
    sales_allocation(other_item, Decimal(6))
    unallocated = factories.PartFactory()
    with django_assert_num_queries(1):
        totals = allocated_by_part([part.pk, other.pk, unallocated.pk])
    assert totals == {part.pk: Decimal(15), other.pk: Decimal(6)}
    expected = {p.pk: p.allocated for p in parts_with_stock() if p.allocated}
    assert totals == expected
