"""Purchase order reads: totals, line progress and overdue flags as annotations.

Every figure is computed in the list's own query (correlated subqueries), never per row.
"""

from decimal import Decimal

from django.db.models import (
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from orders.choices import PURCHASE_OPEN
from orders.models import PurchaseOrder, PurchaseOrderExtraLine, PurchaseOrderLine
from orders.selectors.common import (
    MONEY,
    QUANTITY,
    overdue_expression,
    subquery_count,
    subquery_sum,
)


def purchase_orders_with_totals(queryset=None):
    """Orders annotated with ``line_count``, ``lines_received`` (lines fully received),
    ``lines_total`` (Σ quantity × unit price; lines without a price count 0),
    ``extra_total`` (Σ extra line quantity × price), ``total_price`` and ``overdue``."""
    queryset = PurchaseOrder.objects.all() if queryset is None else queryset
    lines = PurchaseOrderLine.objects.filter(order=OuterRef("pk"))
    extras = PurchaseOrderExtraLine.objects.filter(order=OuterRef("pk"))
    return queryset.annotate(
        line_count=subquery_count(lines),
        lines_received=subquery_count(lines.filter(received__gte=F("quantity"))),
        lines_total=subquery_sum(
            lines, F("quantity") * Coalesce(F("unit_price"), Value(Decimal(0))), MONEY
        ),
        extra_total=subquery_sum(extras, F("quantity") * F("price"), MONEY),
        overdue=overdue_expression(PURCHASE_OPEN),
    ).annotate(
        total_price=ExpressionWrapper(F("lines_total") + F("extra_total"), output_field=MONEY)
    )


def purchase_order_totals(order) -> dict:
    """``line_count``, ``lines_received``, ``lines_total``, ``extra_total``, ``total_price``
    and ``overdue`` of one order, in one query."""
    return (
        purchase_orders_with_totals(PurchaseOrder.objects.filter(pk=order.pk))
        .values(
            "line_count", "lines_received", "lines_total", "extra_total", "total_price", "overdue"
        )
        .get()
    )


def purchase_order_lines(order):
    """The order's lines with what the receiving form and pages show, in line order."""
    return (
        PurchaseOrderLine.objects.filter(order=order)
        .select_related("supplier_part__part", "supplier_part__supplier", "destination")
        .annotate(
            outstanding_packs=ExpressionWrapper(
                F("quantity") - F("received"), output_field=QUANTITY
            )
        )
        .order_by("pk")
    )


def open_purchase_order_lines(order):
    """Lines not yet fully received (what can be received)."""
    return purchase_order_lines(order).filter(received__lt=F("quantity"))


def on_order_by_supplier_part(supplier_part_ref="pk"):
    """Packs of a supplier part on open orders, not yet received (for SupplierPart lists)."""
    lines = PurchaseOrderLine.objects.filter(
        supplier_part=OuterRef(supplier_part_ref),
        order__status__in=PURCHASE_OPEN,
        received__lt=F("quantity"),
    )
    subquery = (
        lines.order_by()
        .values("supplier_part")
        .annotate(
            total=Sum(ExpressionWrapper(F("quantity") - F("received"), output_field=QUANTITY))
        )
        .values("total")[:1]
    )
    return Coalesce(
        Subquery(subquery, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )
