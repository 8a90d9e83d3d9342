"""Return order reads: totals, received-line progress, overdue flag (annotations only)."""

from django.db.models import ExpressionWrapper, F, OuterRef

from orders.choices import RETURN_OPEN
from orders.models import ReturnOrder, ReturnOrderLine
from orders.selectors.common import MONEY, overdue_expression, subquery_count, subquery_sum


def return_orders_with_figures(queryset=None):
    """Orders annotated with ``line_count``, ``lines_received``, ``total_price``
    (Σ line quantity × price; lines without a price count as 0) and ``overdue``."""
    queryset = ReturnOrder.objects.all() if queryset is None else queryset
    lines = ReturnOrderLine.objects.filter(order=OuterRef("pk"))
    return queryset.annotate(
        line_count=subquery_count(lines),
        lines_received=subquery_count(lines.filter(received_date__isnull=False)),
        total_price=ExpressionWrapper(
            subquery_sum(lines.exclude(price__isnull=True), F("quantity") * F("price"), MONEY),
            output_field=MONEY,
        ),
        overdue=overdue_expression(RETURN_OPEN),
    )
