"""Order read helpers: annotated querysets for admin lists, dashboards and exports."""

from orders.selectors import returns, sales  # noqa: F401
from orders.selectors.common import overdue_q
from orders.selectors.companies import companies_with_counts, supplier_parts_with_on_order
from orders.selectors.purchase import (
    open_purchase_order_lines,
    purchase_order_lines,
    purchase_order_totals,
    purchase_orders_with_totals,
)

__all__ = [
    "companies_with_counts",
    "open_purchase_order_lines",
    "overdue_q",
    "purchase_order_lines",
    "purchase_order_totals",
    "purchase_orders_with_totals",
    "supplier_parts_with_on_order",
]
