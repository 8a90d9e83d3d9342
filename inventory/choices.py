"""Status codes and tracking types, using InvenTree's integer values."""

from django.db import models


class StockStatus(models.IntegerChoices):
    OK = 10, "OK"
    ATTENTION = 50, "Attention needed"
    DAMAGED = 55, "Damaged"
    DESTROYED = 60, "Destroyed"
    REJECTED = 65, "Rejected"
    LOST = 70, "Lost"
    QUARANTINED = 75, "Quarantined"
    RETURNED = 85, "Returned"


# Statuses whose items count as available stock.
AVAILABLE_STATUSES = frozenset(
    {StockStatus.OK, StockStatus.ATTENTION, StockStatus.DAMAGED, StockStatus.RETURNED}
)

# Badge colour per status for the admin (unfold label names).
STOCK_STATUS_COLOURS = {
    StockStatus.OK: "success",
    StockStatus.ATTENTION: "warning",
    StockStatus.DAMAGED: "warning",
    StockStatus.DESTROYED: "danger",
    StockStatus.REJECTED: "danger",
    StockStatus.LOST: "danger",
    StockStatus.QUARANTINED: "info",
    StockStatus.RETURNED: "info",
}


class StockHistoryCode(models.IntegerChoices):
    """Stock tracking entry types (InvenTree's StockHistoryCode values)."""

    LEGACY = 0, "Legacy stock tracking entry"
    CREATED = 1, "Stock item created"
    EDITED = 5, "Edited stock item"
    ASSIGNED_SERIAL = 6, "Assigned serial number"
    STOCK_COUNT = 10, "Stock counted"
    STOCK_ADD = 11, "Stock manually added"
    STOCK_REMOVE = 12, "Stock manually removed"
    STOCK_SERIALIZED = 13, "Serialized stock items"
    RETURNED_TO_STOCK = 15, "Returned to stock"
    STOCK_MOVE = 20, "Location changed"
    STOCK_UPDATE = 25, "Stock updated"
    INSTALLED_INTO_ASSEMBLY = 30, "Installed into assembly"
    REMOVED_FROM_ASSEMBLY = 31, "Removed from assembly"
    INSTALLED_CHILD_ITEM = 35, "Installed component item"
    REMOVED_CHILD_ITEM = 36, "Removed component item"
    SPLIT_FROM_PARENT = 40, "Split from parent item"
    SPLIT_CHILD_ITEM = 42, "Split child item"
    MERGED_STOCK_ITEMS = 45, "Merged stock items"
    CONVERTED_TO_VARIANT = 48, "Converted to variant"
    BUILD_OUTPUT_CREATED = 50, "Build order output created"
    BUILD_OUTPUT_COMPLETED = 55, "Build order output completed"
    BUILD_OUTPUT_REJECTED = 56, "Build order output rejected"
    BUILD_CONSUMED = 57, "Consumed by build order"
    SHIPPED_AGAINST_SALES_ORDER = 60, "Shipped against sales order"
    RECEIVED_AGAINST_PURCHASE_ORDER = 70, "Received against purchase order"
    RETURNED_AGAINST_RETURN_ORDER = 80, "Returned against return order"
    SENT_TO_CUSTOMER = 100, "Sent to customer"
    RETURNED_FROM_CUSTOMER = 105, "Returned from customer"
