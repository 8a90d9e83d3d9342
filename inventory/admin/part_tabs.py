"""The part page's own lazy tabs: its stock items and its change history
(admin_customisations/tabs.py; the order, build and where-used tabs come from their apps)."""

from django.urls import reverse

from admin_customisations.tabs import Link, ObjectTab, Table
from inventory.models import Part, StockItem
from inventory.services.common import fmt

HISTORY_TYPES = {"+": "Created", "~": "Changed", "-": "Deleted"}


def _stock_rows(part):
    # newest first on the part's index; the links' rows joined (a fixed number of queries)
    return (
        StockItem.objects.in_stock()
        .filter(part=part)
        .select_related("part", "location")
        .order_by("-pk")
    )


def _all_stock_link(part):
    url = reverse("admin:inventory_stockitem_changelist")
    return "All stock items of this part", f"{url}?part__id__exact={part.pk}"


STOCK_TABLE = Table(
    key="stock",
    title="Stock items in stock",
    model=StockItem,
    rows=_stock_rows,
    columns=[
        ("Item", lambda item: Link(item, f"#{item.pk}")),
        (
            "Location",
            lambda item: (
                Link(item.location, item.location.pathstring) if item.location_id else None
            ),
        ),
        ("Status", lambda item: item.get_status_display()),
        ("Quantity", lambda item: fmt(item.quantity)),
        ("Batch", lambda item: item.batch),
        ("Serial", lambda item: item.serial),
        ("Expiry", lambda item: item.expiry_date),
    ],
    empty="This part has no stock.",
    more=_all_stock_link,
)


def _history_rows(part):
    return part.history.select_related("history_user").order_by("-history_date", "-history_id")


HISTORY_TABLE = Table(
    key="history",
    title="Changes to this part",
    model=Part,
    rows=_history_rows,
    columns=[
        ("Date", lambda record: record.history_date),
        ("Change", lambda record: HISTORY_TYPES.get(record.history_type, record.history_type)),
        ("By", lambda record: record.history_user),
        ("Reason", lambda record: record.history_change_reason),
    ],
    empty="No recorded changes.",
    more=lambda part: ("Full history", reverse("admin:inventory_part_history", args=[part.pk])),
)

STOCK_TAB = ObjectTab(slug="stock", title="Stock", tables=[STOCK_TABLE])
HISTORY_TAB = ObjectTab(slug="history", title="History", tables=[HISTORY_TABLE])


def part_tabs() -> list[ObjectTab]:
    """The part page's lazy tabs, in order (each shown only where it applies and to users
    who may view one of its tables)."""
    from builds.admin.part_tabs import BUILD_ALLOCATION_TABLE, BUILD_TABLE, WHERE_USED_TABLE
    from orders.admin.part_tabs import PURCHASE_TABLE, SALES_ALLOCATION_TABLE, SALES_TABLE

    return [
        STOCK_TAB,
        ObjectTab(
            slug="allocations",
            title="Allocations",
            tables=[BUILD_ALLOCATION_TABLE, SALES_ALLOCATION_TABLE],
        ),
        ObjectTab(
            slug="builds",
            title="Build orders",
            tables=[BUILD_TABLE],
            applies=lambda part: part.assembly,
        ),
        ObjectTab(
            slug="purchase-orders",
            title="Purchase orders",
            tables=[PURCHASE_TABLE],
            applies=lambda part: part.purchaseable,
        ),
        ObjectTab(
            slug="sales-orders",
            title="Sales orders",
            tables=[SALES_TABLE],
            applies=lambda part: part.salable,
        ),
        ObjectTab(
            slug="used-in",
            title="Used in",
            tables=[WHERE_USED_TABLE],
            applies=lambda part: part.component,
        ),
        HISTORY_TAB,
    ]
