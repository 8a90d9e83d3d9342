"""What the home page shows one user: KPI cards, charts, "my work", recent changes.

Each widget asks ``admin_customisations.permissions.user_may`` whether the user may view
the model behind it (and nothing is computed for widgets the user may not see); a figure
links to the changelist with the filter that shows the same rows only when the user may
view that list, and action links ("New purchase order", "Receive") appear only for users
who may add or change. Adding a "My work" section is one function in ``MY_WORK_SECTIONS``.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from admin_customisations.dashboard import figures
from admin_customisations.dashboard.snapshot import is_stale, stock_snapshot
from admin_customisations.permissions import user_may


@dataclass
class Link:
    title: str
    url: str


@dataclass
class Kpi:
    """One figure card: ``value`` links to ``url``; ``extra`` is a second, linked figure
    (e.g. "3 overdue"); ``actions`` are links for users who may act."""

    key: str
    title: str
    value: str
    url: str | None = None
    icon: str = ""
    extra: str = ""
    extra_url: str | None = None
    warn: bool = False
    note: str = ""
    actions: list[Link] = field(default_factory=list)


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar" or "line" (unfold's chart components)
    data: dict
    note: str = ""

    @property
    def json(self) -> str:
        return json.dumps(self.data)


@dataclass
class Row:
    text: str
    url: str | None = None
    meta: str = ""
    warn: bool = False
    action: Link | None = None


@dataclass
class Section:
    """One list of "My work"."""

    key: str
    title: str
    rows: list[Row]
    more: Link | None = None
    empty: str = "Nothing here."


def changelist(model, **params) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def add_url(model) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_add")


def number(value) -> str:
    return f"{value:,}"


def money(values: dict) -> str:
    """{currency: "1234.50"} as "1,234.50 EUR" (one line per currency)."""
    if not values:
        return "0.00"
    return " + ".join(f"{Decimal(v):,.2f} {c}".strip() for c, v in values.items())


# ------------------------------------------------------------------------------------ KPIs


def stock_kpis(user, snapshot) -> list[Kpi]:
    from inventory.models import Part, StockItem

    cards = []
    if user_may(user, "view", model=Part):
        counts = figures.part_counts()
        cards.append(
            Kpi(
                "parts",
                "Parts",
                number(counts["parts"]),
                changelist(Part),
                icon="category",
                extra=f"{number(counts['low_stock'])} low stock",
                extra_url=changelist(Part, low_stock="yes"),
                warn=bool(counts["low_stock"]),
            )
        )
    if user_may(user, "view", model=StockItem) and snapshot is not None:
        data = snapshot.data
        cards.append(
            Kpi(
                "stock_value",
                "Stock value (purchase price)",
                money(data["stock_value"]),
                changelist(StockItem, state="in_stock"),
                icon="payments",
                note=snapshot_note(snapshot),
            )
        )
        cards.append(
            Kpi(
                "expiring",
                f"Expiring within {data['expiring_days']} days",
                number(data["expiring"]),
                changelist(StockItem, expires_within=data["expiring_days"]),
                icon="event_upcoming",
                extra=f"{number(data['expired'])} expired",
                extra_url=changelist(StockItem, expired="yes"),
                warn=bool(data["expired"]),
                note=snapshot_note(snapshot),
            )
        )
    return cards


def order_kpis(user) -> list[Kpi]:
    from orders.choices import PURCHASE_OPEN, SALES_OPEN
    from orders.models import PurchaseOrder, SalesOrder

    cards = []
    for model, open_statuses, key, title, icon in (
        (PurchaseOrder, PURCHASE_OPEN, "purchase_orders", "Open purchase orders", "shopping_cart"),
        (SalesOrder, SALES_OPEN, "sales_orders", "Sales orders to ship", "sell"),
    ):
        if not user_may(user, "view", model=model):
            continue
        counts = figures.order_counts(model, open_statuses)
        status_in = ",".join(str(int(s)) for s in sorted(open_statuses))
        actions = []
        if user_may(user, "add", model=model):
            actions.append(Link(f"New {model._meta.verbose_name}", add_url(model)))
        cards.append(
            Kpi(
                key,
                title,
                number(counts["open"]),
                changelist(model, status__in=status_in),
                icon=icon,
                extra=f"{number(counts['overdue'])} overdue",
                extra_url=changelist(model, overdue="yes"),
                warn=bool(counts["overdue"]),
                actions=actions,
            )
        )
    return cards


def build_kpis(user) -> list[Kpi]:
    from builds.choices import BuildStatus
    from builds.models import BuildOrder

    if not user_may(user, "view", model=BuildOrder):
        return []
    counts = figures.build_counts()
    actions = []
    if user_may(user, "add", model=BuildOrder):
        actions.append(Link("New build order", add_url(BuildOrder)))
    return [
        Kpi(
            "builds",
            "Builds in production",
            number(counts["production"]),
            changelist(BuildOrder, status__exact=int(BuildStatus.PRODUCTION)),
            icon="precision_manufacturing",
            extra=f"{number(counts['overdue'])} overdue",
            extra_url=changelist(BuildOrder, overdue="yes"),
            warn=bool(counts["overdue"]),
            actions=actions,
        )
    ]


def job_kpis(user) -> list[Kpi]:
    from admin_customisations.jobs.admin import may_see_all_jobs
    from admin_customisations.models import BackgroundJob

    everyone = may_see_all_jobs(user)
    counts = figures.job_counts(user, everyone=everyone)
    scope = {"started_by": "all" if everyone else "me"}
    status = BackgroundJob.Status
    return [
        Kpi(
            "jobs",
            "Background jobs running" if everyone else "My jobs running",
            number(counts["running"]),
            changelist(BackgroundJob, status__exact=status.RUNNING, **scope),
            icon="work_history",
            extra=f"{number(counts['failed'])} failed",
            extra_url=changelist(BackgroundJob, status__exact=status.FAILED, **scope),
            warn=bool(counts["failed"]),
        )
    ]


def snapshot_note(snapshot) -> str:
    when = timezone.localtime(snapshot.computed_at)
    note = f"as of {when:%H:%M}"
    if when.date() != timezone.localdate():
        note = f"as of {when:%Y-%m-%d %H:%M}"
    return note + (" (not refreshed lately)" if is_stale(snapshot) else "")


# ---------------------------------------------------------------------------------- charts


def stock_value_chart(user, snapshot) -> Chart | None:
    from inventory.models import StockItem

    if snapshot is None or not user_may(user, "view", model=StockItem):
        return None
    by_category = dict(snapshot.data["value_by_category"])
    labels = [name for name, _ in snapshot.data["value_by_category"]]
    currencies = sorted({c for values in by_category.values() for c in values})
    datasets = [
        {
            "label": f"Value {currency}".strip(),
            "data": [float(by_category[name].get(currency, 0)) for name in labels],
            "backgroundColor": "var(--color-primary-600)",
            "maxBarThickness": 32,
        }
        for currency in currencies
    ]
    return Chart(
        "stock_value_by_category",
        "Stock value by top-level category",
        "bar",
        {"labels": labels, "datasets": datasets},
        note=snapshot_note(snapshot),
    )


def order_value_chart(user) -> Chart | None:
    from orders.models import PurchaseOrder, SalesOrder

    months = figures.month_starts()
    keys = [f"{m:%Y-%m}" for m in months]
    datasets = []
    for model, label, colour in (
        (PurchaseOrder, "Purchase orders", "var(--color-primary-600)"),
        (SalesOrder, "Sales orders", "var(--color-primary-300)"),
    ):
        if not user_may(user, "view", model=model):
            continue
        values = figures.order_values_by_month(model)
        for currency in sorted(values) or [""]:
            by_month = values.get(currency, {})
            datasets.append(
                {
                    "label": f"{label} {currency}".strip(),
                    "data": [float(by_month.get(key, 0)) for key in keys],
                    "borderColor": colour,
                    "backgroundColor": colour,
                }
            )
    if not datasets:
        return None
    return Chart(
        "order_value_by_month",
        "Order value per month",
        "line",
        {"labels": [f"{m:%b %Y}" for m in months], "datasets": datasets},
    )


def builds_chart(user) -> Chart | None:
    from builds.models import BuildOrder

    if not user_may(user, "view", model=BuildOrder):
        return None
    counts = figures.builds_completed_by_week()
    return Chart(
        "builds_completed_by_week",
        "Builds completed per week",
        "bar",
        {
            "labels": [f"{monday:%d %b}" for monday in counts],
            "datasets": [
                {
                    "label": "Builds completed",
                    "data": list(counts.values()),
                    "backgroundColor": "var(--color-primary-600)",
                    "maxBarThickness": 24,
                }
            ],
        },
    )


# ---------------------------------------------------------------------------------- my work


def _order_section(user, model, open_statuses, key, title):
    if not user_may(user, "view", model=model):
        return None
    from orders.admin.purchase_actions import RECEIVABLE
    from orders.models import PurchaseOrder

    may_receive = model is PurchaseOrder and user_may(user, "receive", model=model)
    today = timezone.localdate()
    rows = []
    for order in figures.my_open_orders(model, open_statuses, user):
        action = None
        if may_receive and order.status in RECEIVABLE:
            action = Link(
                "Receive", reverse("admin:orders_purchaseorder_receive_detail", args=[order.pk])
            )
        overdue = bool(order.target_date and order.target_date < today)
        rows.append(
            Row(
                f"{order.reference} – {order.company.name}",
                change_url(order),
                meta=f"{order.get_status_display()}"
                + (f" · due {order.target_date:%Y-%m-%d}" if order.target_date else ""),
                warn=overdue,
                action=action,
            )
        )
    return Section(
        key,
        title,
        rows,
        more=Link("All mine", changelist(model, responsible_user__id__exact=user.pk)),
        empty="No open orders you are responsible for.",
    )


def purchase_orders_section(user):
    from orders.choices import PURCHASE_OPEN
    from orders.models import PurchaseOrder

    return _order_section(
        user, PurchaseOrder, PURCHASE_OPEN, "my_purchase_orders", "My purchase orders"
    )


def sales_orders_section(user):
    from orders.choices import SALES_OPEN
    from orders.models import SalesOrder

    return _order_section(user, SalesOrder, SALES_OPEN, "my_sales_orders", "My sales orders")


def return_orders_section(user):
    from orders.choices import RETURN_OPEN
    from orders.models import ReturnOrder

    return _order_section(user, ReturnOrder, RETURN_OPEN, "my_return_orders", "My return orders")


def builds_section(user):
    from builds.models import BuildOrder

    if not user_may(user, "view", model=BuildOrder):
        return None
    today = timezone.localdate()
    rows = [
        Row(
            f"{build.reference} – {build.part.name}",
            change_url(build),
            meta=f"{build.get_status_display()} · {build.completed}/{build.quantity}"
            + (f" · due {build.target_date:%Y-%m-%d}" if build.target_date else ""),
            warn=bool(build.target_date and build.target_date <= today),
        )
        for build in figures.my_active_builds(user)
    ]
    return Section(
        "my_builds",
        "My builds",
        rows,
        more=Link("All mine", changelist(BuildOrder, responsible="me")),
        empty="No active builds you are responsible for.",
    )


def jobs_section(user):
    from admin_customisations.models import BackgroundJob

    rows = [
        Row(
            job.name,
            job.get_absolute_url(),
            meta=f"{job.get_status_display()} · {timezone.localtime(job.created_at):%Y-%m-%d %H:%M}",
            warn=job.status == BackgroundJob.Status.FAILED,
        )
        for job in figures.my_recent_jobs(user)
    ]
    return Section(
        "my_jobs",
        "My recent jobs",
        rows,
        more=Link("All my jobs", changelist(BackgroundJob, started_by="me")),
        empty="You have not started any background jobs.",
    )


def notifications_section(user):
    """My unread notifications, newest first, read from the unread index; the count comes
    with the signed-in user (notifications.auth) or costs one more indexed COUNT."""
    from admin_customisations.notifications.auth import ATTRIBUTE
    from admin_customisations.notifications.models import Notification
    from admin_customisations.notifications.selectors import unread_count, unread_notifications

    rows = [
        Row(
            notification.title,
            notification.link or None,
            meta=f"{notification.get_condition_display()} · "
            f"{timezone.localtime(notification.created_at):%Y-%m-%d %H:%M}",
        )
        for notification in unread_notifications(user, limit=5)
    ]
    count = getattr(user, ATTRIBUTE, None)
    if count is None:
        count = unread_count(user)
    return Section(
        "my_notifications",
        f"Unread notifications ({count})",
        rows,
        more=Link("Inbox", changelist(Notification)),
        empty="No unread notifications.",
    )


# The "My work" lists, in page order: each is ``section(user) -> Section | None`` (None when
# the user may not see it). One query each at most.
MY_WORK_SECTIONS = [
    notifications_section,
    purchase_orders_section,
    sales_orders_section,
    return_orders_section,
    builds_section,
    jobs_section,
]


def my_work(user) -> list[Section]:
    return [s for s in (section(user) for section in MY_WORK_SECTIONS) if s is not None]


# ---------------------------------------------------------------------------- recent changes


def recent_changes(user):
    """The newest change log entries the user may see, with a link to each object (its page;
    a deleted object is not linked, or offers "Restore…" to users who may add it)."""
    from django.contrib.contenttypes.models import ContentType

    from admin_customisations.history.entries import EntryDetails, object_link
    from admin_customisations.history.log_admin import restorable_models, viewable_models
    from admin_customisations.history.models import ChangeLogEntry

    if not viewable_models(user):
        return None
    may_restore = restorable_models(user)
    rows = []
    for entry in figures.recent_changes(user):
        details = EntryDetails(exists=entry.history_type != ChangeLogEntry.DELETED)
        model = ContentType.objects.get_for_id(entry.content_type_id)
        rows.append(
            {
                "when": timezone.localtime(entry.history_date),
                "user": entry.user.get_username() if entry.user else "—",
                "model": str(model.name).capitalize(),
                "type": entry.get_history_type_display(),
                "type_code": entry.history_type,
                "object": object_link(entry, details, may_restore=may_restore),
                "reason": entry.reason,
            }
        )
    return {"rows": rows, "url": changelist(ChangeLogEntry)}


# -------------------------------------------------------------------------------- the page


def dashboard(user) -> dict:
    """Everything the home page shows ``user`` (the template's ``dashboard`` variable)."""
    from inventory.models import StockItem

    snapshot = stock_snapshot() if user_may(user, "view", model=StockItem) else None
    kpis = [*stock_kpis(user, snapshot), *order_kpis(user), *build_kpis(user), *job_kpis(user)]
    charts = [
        c
        for c in (stock_value_chart(user, snapshot), order_value_chart(user), builds_chart(user))
        if c is not None
    ]
    return {
        "kpis": kpis,
        "charts": charts,
        "my_work": my_work(user),
        "recent_changes": recent_changes(user),
    }
