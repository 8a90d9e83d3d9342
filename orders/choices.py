"""Order status codes (InvenTree's values) and their groups."""

from django.db import models


class PurchaseOrderStatus(models.IntegerChoices):
    PENDING = 10, "Pending"
    PLACED = 20, "Placed"
    ON_HOLD = 25, "On hold"
    COMPLETE = 30, "Complete"
    CANCELLED = 40, "Cancelled"
    LOST = 50, "Lost"
    RETURNED = 60, "Returned"


class SalesOrderStatus(models.IntegerChoices):
    PENDING = 10, "Pending"
    IN_PROGRESS = 15, "In progress"
    SHIPPED = 20, "Shipped"
    ON_HOLD = 25, "On hold"
    COMPLETE = 30, "Complete"
    CANCELLED = 40, "Cancelled"
    LOST = 50, "Lost"
    RETURNED = 60, "Returned"


class ReturnOrderStatus(models.IntegerChoices):
    PENDING = 10, "Pending"
    IN_PROGRESS = 20, "In progress"
    ON_HOLD = 25, "On hold"
    COMPLETE = 30, "Complete"
    CANCELLED = 40, "Cancelled"


class ReturnLineOutcome(models.IntegerChoices):
    PENDING = 10, "Pending"
    RETURN = 20, "Return"
    REPAIR = 30, "Repair"
    REPLACE = 40, "Replace"
    REFUND = 50, "Refund"
    REJECT = 60, "Reject"


PURCHASE_OPEN = frozenset(
    {PurchaseOrderStatus.PENDING, PurchaseOrderStatus.PLACED, PurchaseOrderStatus.ON_HOLD}
)
SALES_OPEN = frozenset(
    {SalesOrderStatus.PENDING, SalesOrderStatus.IN_PROGRESS, SalesOrderStatus.ON_HOLD}
)
SALES_COMPLETE = frozenset({SalesOrderStatus.SHIPPED, SalesOrderStatus.COMPLETE})
RETURN_OPEN = frozenset(
    {ReturnOrderStatus.PENDING, ReturnOrderStatus.IN_PROGRESS, ReturnOrderStatus.ON_HOLD}
)

# Badge colours for the admin (unfold label names), by status label.
ORDER_STATUS_COLOURS = {
    "Pending": "info",
    "Placed": "warning",
    "In progress": "warning",
    "On hold": "warning",
    "Shipped": "success",
    "Complete": "success",
    "Cancelled": "danger",
    "Lost": "danger",
    "Returned": "danger",
}
