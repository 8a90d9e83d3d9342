"""Live dashboard reads: indexed counts, chart series and "my work" lists.

Every function is one query (or a fixed few), bounded by an index, a ``LIMIT`` or the size of
a small table (orders, builds, jobs), never by the number of stock items (docs/dashboard.md
lists each query's cost). Definitions are the existing ones: low stock
(``inventory.selectors.low_stock_condition``), overdue orders (``orders.selectors.overdue_q``),
overdue builds (``BuildOrderQuerySet.overdue``), in-stock (``StockItemQuerySet.in_stock``).
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

MONTHS = 12
WEEKS = 12
MY_WORK_LIMIT = 5
RECENT_CHANGES = 10
SOONEST = F("target_date").asc(nulls_last=True)


def part_counts() -> dict:
    """``parts`` and ``low_stock`` (one aggregate over the part table)."""
    from inventory.models import Part
    from inventory.selectors import low_stock_condition

    return Part.objects.aggregate(
        parts=Count("pk"), low_stock=Count("pk", filter=low_stock_condition())
    )


def order_counts(model, open_statuses, today=None) -> dict:
    """``open`` and ``overdue`` orders of ``model`` (purchase, sales or return orders)."""
    from orders.selectors import overdue_q

    return model.objects.aggregate(
        open=Count("pk", filter=Q(status__in=open_statuses)),
        overdue=Count("pk", filter=overdue_q(open_statuses, today)),
    )


def build_counts(today=None) -> dict:
    """``production`` (status Production) and ``overdue`` builds (``BuildOrderQuerySet.overdue``:
    active, target date reached)."""
    from builds.choices import BuildStatus
    from builds.models import BuildOrder

    return {
        "production": BuildOrder.objects.filter(status=BuildStatus.PRODUCTION).count(),
        "overdue": BuildOrder.objects.overdue(today).count(),
    }


def job_counts(user, *, everyone: bool) -> dict:
    """``running`` and ``failed`` background jobs (everyone's, or ``user``'s own)."""
    from admin_customisations.models import BackgroundJob

    jobs = (
        BackgroundJob.objects.all() if everyone else BackgroundJob.objects.filter(created_by=user)
    )
    status = BackgroundJob.Status
    return jobs.aggregate(
        running=Count("pk", filter=Q(status=status.RUNNING)),
        failed=Count("pk", filter=Q(status=status.FAILED)),
    )


# ---------------------------------------------------------------------------------- charts


def month_starts(today=None, months=MONTHS) -> list[date]:
    """The first days of the last ``months`` calendar months, oldest first (this one last)."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def order_values_by_month(model, today=None) -> dict[str, dict[str, Decimal]]:
    """{currency: {"YYYY-MM": Σ order total}} of the orders of ``model`` dated in the last
    12 months (issue date, else the day they were created), cancelled ones left out.

    One query over the orders of the period; each order's total is the list's own
    annotation (``purchase_orders_with_totals`` / ``sales_orders_with_figures``)."""
    from orders.models import PurchaseOrder, SalesOrder
    from orders.selectors import purchase_orders_with_totals
    from orders.selectors.sales import sales_orders_with_figures

    start = month_starts(today)[0]
    start_dt = timezone.make_aware(datetime.combine(start, time.min))
    from orders.choices import PurchaseOrderStatus, SalesOrderStatus

    with_totals, cancelled = {
        PurchaseOrder: (purchase_orders_with_totals, PurchaseOrderStatus.CANCELLED),
        SalesOrder: (sales_orders_with_figures, SalesOrderStatus.CANCELLED),
    }[model]
    orders = with_totals(
        model.objects.filter(
            Q(issue_date__gte=start) | Q(issue_date__isnull=True, created_at__gte=start_dt)
        ).exclude(status=cancelled)
    ).order_by()
    values: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for issued, created, currency, total in orders.values_list(
        "issue_date", "created_at", "currency", "total_price"
    ):
        day = issued or timezone.localtime(created).date()
        values[currency or ""][f"{day:%Y-%m}"] += total or 0
    return {currency: dict(months) for currency, months in values.items()}


def week_starts(today=None, weeks=WEEKS) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, oldest first (this week last)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def builds_completed_by_week(today=None) -> dict[date, int]:
    """{Monday: build orders completed that week} for the last 12 weeks (one query over the
    builds completed in the period)."""
    from builds.choices import BuildStatus
    from builds.models import BuildOrder

    weeks = week_starts(today)
    start = timezone.make_aware(datetime.combine(weeks[0], time.min))
    counts = dict.fromkeys(weeks, 0)
    done = BuildOrder.objects.filter(status=BuildStatus.COMPLETE, completed_at__gte=start)
    for completed_at in done.order_by().values_list("completed_at", flat=True):
        day = timezone.localtime(completed_at).date()
        monday = day - timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return counts


# ---------------------------------------------------------------------------------- my work


def responsible_q(user) -> Q:
    """Objects ``user`` is responsible for, directly or through one of their groups (the
    build list's "Me (or my groups)" filter; the groups are a subquery, not a query)."""
    return Q(responsible_user=user) | Q(responsible_group__in=user.groups.all())


def my_open_orders(model, open_statuses, user, limit=MY_WORK_LIMIT) -> list:
    """Open orders ``user`` is responsible for, soonest target date first (one query)."""
    company = "supplier" if hasattr(model, "supplier") else "customer"
    return list(
        model.objects.filter(responsible_q(user), status__in=open_statuses)
        .select_related(company)
        .order_by(SOONEST, "-pk")[:limit]
    )


def my_active_builds(user, limit=MY_WORK_LIMIT) -> list:
    from builds.models import BuildOrder

    return list(
        BuildOrder.objects.active()
        .filter(responsible_q(user))
        .select_related("part")
        .order_by(SOONEST, "-pk")[:limit]
    )


def my_recent_jobs(user, limit=MY_WORK_LIMIT) -> list:
    from admin_customisations.models import BackgroundJob

    return list(BackgroundJob.objects.filter(created_by=user).order_by("-pk")[:limit])


# ---------------------------------------------------------------------------------- change log


def recent_changes(user, limit=RECENT_CHANGES) -> list:
    """The newest change log entries of the models ``user`` may view (the change log's own
    scoping, ``history.log_admin.visible_entries``): one query on its date index."""
    from admin_customisations.history.log_admin import visible_entries
    from admin_customisations.history.models import ChangeLogEntry

    entries = ChangeLogEntry.objects.select_related("user").order_by("-history_date", "-id")
    return list(visible_entries(entries, user)[:limit])
