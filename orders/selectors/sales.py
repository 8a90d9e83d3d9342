"""Sales order reads: totals, line progress, overdue flag, allocated quantities.

Every figure is an annotation (correlated subqueries): lists stay one query.
"""

from django.db.models import (
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
)

from orders.choices import SALES_OPEN
from orders.models import (
    SalesOrder,
    SalesOrderAllocation,
    SalesOrderExtraLine,
    SalesOrderLine,
    SalesOrderShipment,
)
from orders.selectors.common import (
    MONEY,
    QUANTITY,
    overdue_expression,
    subquery_count,
    subquery_sum,
)


def sales_orders_with_figures(queryset=None):
    """Orders annotated with ``line_count``, ``lines_shipped`` (fully shipped lines),
    ``lines_total`` and ``extra_total`` (Σ quantity × price), ``total_price`` and ``overdue``.

    Lines without a unit price count as 0.
    """
    queryset = SalesOrder.objects.all() if queryset is None else queryset
    lines = SalesOrderLine.objects.filter(order=OuterRef("pk"))
    extras = SalesOrderExtraLine.objects.filter(order=OuterRef("pk"))
    return queryset.annotate(
        line_count=subquery_count(lines),
        lines_shipped=subquery_count(lines.filter(shipped__gte=F("quantity"))),
        lines_total=subquery_sum(
            lines.exclude(unit_price__isnull=True), F("quantity") * F("unit_price"), MONEY
        ),
        extra_total=subquery_sum(extras, F("quantity") * F("price"), MONEY),
        overdue=overdue_expression(SALES_OPEN),
    ).annotate(
        total_price=ExpressionWrapper(F("lines_total") + F("extra_total"), output_field=MONEY)
    )


def unshipped_allocation_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}shipment__isnull": True}) | Q(
        **{f"{prefix}shipment__shipment_date__isnull": True}
    )


def sales_lines_with_allocation(queryset=None):
    """Lines annotated with ``allocated`` (held by unshipped allocations) and ``outstanding``
    (quantity − shipped − allocated)."""
    queryset = SalesOrderLine.objects.all() if queryset is None else queryset
    allocations = SalesOrderAllocation.objects.filter(unshipped_allocation_q(), line=OuterRef("pk"))
    return queryset.annotate(
        allocated=subquery_sum(allocations, F("quantity"), QUANTITY),
    ).annotate(
        outstanding=ExpressionWrapper(
            F("quantity") - F("shipped") - F("allocated"), output_field=QUANTITY
        )
    )


def shipments_with_figures(queryset=None):
    """Shipments annotated with ``allocation_count`` and ``allocated_quantity``."""
    queryset = SalesOrderShipment.objects.all() if queryset is None else queryset
    allocations = SalesOrderAllocation.objects.filter(shipment=OuterRef("pk"))
    return queryset.annotate(
        allocation_count=subquery_count(allocations),
        allocated_quantity=subquery_sum(allocations, F("quantity"), QUANTITY),
    )


def order_allocations(order):
    """An order's allocations with what the admin shows (line part, item, shipment)."""
    return (
        SalesOrderAllocation.objects.filter(line__order=order)
        .select_related("line__part", "item__part", "item__location", "shipment")
        .order_by("line_id", "pk")
    )
