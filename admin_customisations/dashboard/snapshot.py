"""Heavy dashboard figures, computed into ``DashboardSnapshot`` instead of per request.

Summing over every stock item (the value at purchase price, its split by top-level category)
reads the whole stock table: seconds at a million items. The periodic task
``stockroom.refresh_dashboard`` (``admin_customisations.schedules``, every 10 minutes)
recomputes the figures; the home page reads the one row (one query) and shows "as of HH:MM".
When the row is missing (a new database) the first page view computes it.

The figures use the one definition of each concept: ``StockItem.objects.in_stock()``,
``.expired()`` and ``.expiring(days)``.
"""

import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone

from admin_customisations.dashboard.models import DashboardSnapshot

STOCK = "stock"
EXPIRING_DAYS = 30
# the periodic task's interval (schedules.py); a snapshot older than STALE_AFTER is marked
REFRESH_SECONDS = 600
STALE_AFTER = timedelta(seconds=3 * REFRESH_SECONDS)
MONEY = DecimalField(max_digits=30, decimal_places=6)
NO_CATEGORY = "(no category)"


def compute_stock_figures(today=None) -> dict:
    """The stock figures as JSON-ready data (money as strings, per currency)."""
    from inventory.models import PartCategory, StockItem

    today = today or timezone.localdate()
    in_stock = StockItem.objects.in_stock()
    rows = (
        in_stock.filter(purchase_price__isnull=False)
        .order_by()
        .values("part__category__tree_path", "purchase_price_currency")
        .annotate(
            value=Sum(ExpressionWrapper(F("quantity") * F("purchase_price"), output_field=MONEY))
        )
    )
    top_names = dict(PartCategory.objects.filter(parent=None).values_list("pk", "name"))
    by_category: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        path = row["part__category__tree_path"] or ""
        top = path.strip("/").split("/")[0]
        name = top_names.get(int(top), NO_CATEGORY) if top.isdigit() else NO_CATEGORY
        currency = row["purchase_price_currency"] or ""
        by_category[name][currency] += row["value"] or 0
        totals[currency] += row["value"] or 0
    return {
        "today": today.isoformat(),
        "stock_value": {c: str(v.quantize(Decimal("0.01"))) for c, v in sorted(totals.items())},
        # a list of [name, {currency: value}]: PostgreSQL's jsonb does not keep key order
        "value_by_category": [
            [name, {c: str(v.quantize(Decimal("0.01"))) for c, v in sorted(values.items())}]
            for name, values in sorted(by_category.items())
        ],
        "expired": StockItem.objects.expired(today).count(),
        "expiring_days": EXPIRING_DAYS,
        "expiring": StockItem.objects.expiring(EXPIRING_DAYS, today).count(),
    }


def refresh_snapshot(today=None) -> DashboardSnapshot:
    """Recompute the stock figures and store them (one row, replaced)."""
    started = time.perf_counter()
    data = compute_stock_figures(today)
    snapshot, _ = DashboardSnapshot.objects.update_or_create(
        name=STOCK,
        defaults={
            "data": data,
            "computed_at": timezone.now(),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
    return snapshot


def stock_snapshot() -> DashboardSnapshot:
    """The stored stock figures; computed now when there are none yet."""
    snapshot = DashboardSnapshot.objects.filter(name=STOCK).first()
    return snapshot or refresh_snapshot()


def is_stale(snapshot, now=None) -> bool:
    return (now or timezone.now()) - snapshot.computed_at > STALE_AFTER
