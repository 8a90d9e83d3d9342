"""Sales order reads: totals, line progress, overdue flag, allocated quantities.

Every figure is an annotation (correlated subqueries): lists stay one query.
"""

from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.choices import SALES_OPEN
from orders.models import (
    SalesOrder,
    SalesOrderAllocation,
    SalesOrderExtraLine,
    SalesOrderLine,
    SalesOrderShipment,
)

QUANTITY = DecimalField(max_digits=20, decimal_places=5)
MONEY = DecimalField(max_digits=30, decimal_places=6)


def subquery_sum(qs, expression, output_field):
    total = qs.order_by().annotate(_g=Value(1)).values("_g").annotate(t=Sum(expression)).values("t")
    return Coalesce(
        Subquery(total[:1], output_field=output_field),
        Value(Decimal(0)),
        output_field=output_field,
    )


def subquery_count(qs):
    n = qs.order_by().annotate(_g=Value(1)).values("_g").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(n[:1], output_field=IntegerField()), Value(0))


def overdue_expression(open_statuses, today=None):
    """True for an open order whose target date has passed (R61)."""
    today = today or timezone.localdate()
    return Case(
        When(overdue_q(open_statuses, today), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def overdue_q(open_statuses, today=None) -> Q:
    return Q(status__in=open_statuses, target_date__lt=today or timezone.localdate())


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
