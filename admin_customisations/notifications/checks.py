"""The scheduled checks: each finds what meets its condition and notifies who is concerned.

Every check is one streamed query for its candidates (plus one for the subscriptions or
group members it resolves recipients with), writes through
``services.raise_notifications`` in batches and returns how many notifications it raised.
The Celery tasks (``notifications.tasks``) run them as the ``[scheduler]`` actor.

Recipients:
* low stock, stock expiring, stock expired: users subscribed to the part or to its
  category or any category above it (``inventory.selectors.SubscriberMap``);
* overdue purchase, sales, return and build orders: the responsible user, or every member
  of the responsible group;
* failed background jobs: the Administration role (``roles.holds_admin_role``) and the
  job's own user.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum
from django.utils import timezone

from admin_customisations.notifications.models import Notification
from admin_customisations.notifications.services import (
    Candidate,
    admin_change_url,
    raise_notifications,
    send_pending_emails,
)
from inventory.models import Part, PartCategory, StockItem
from inventory.selectors import SubscriberMap, low_stock_condition
from inventory.services.common import fmt

C = Notification.Condition

# A failed job notifies while it is this recent (older failures are history, not news).
FAILED_JOB_DAYS = 7


def _part_label(name, ipn) -> str:
    return f"{ipn} {name}" if ipn else name


def _subscribed_parts_q(subscribers: SubscriberMap, prefix: str = "") -> Q:
    """Parts someone is subscribed to, directly or through a category subtree."""
    paths = list(subscribers.by_path)
    query = Q(**{f"{prefix}pk__in": list(subscribers.by_part)})
    if paths:
        subtree = Q()
        for path in paths:
            subtree |= Q(tree_path__startswith=path)
        categories = PartCategory.objects.filter(subtree).values("pk")
        query |= Q(**{f"{prefix}category_id__in": categories})
    return query


def check_low_stock() -> int:
    """Active parts whose stock on hand is below their minimum (the maintained figure)."""
    holds = Part.objects.filter(low_stock_condition(), active=True)
    subscribers = SubscriberMap()
    url = admin_change_url(Part)

    def candidates():
        if not subscribers:
            return
        rows = holds.filter(_subscribed_parts_q(subscribers)).values_list(
            "pk", "name", "ipn", "units", "in_stock_total", "minimum_stock", "category__tree_path"
        )
        for pk, name, ipn, units, in_stock, minimum, path in rows.iterator(chunk_size=2000):
            unit = f" {units}" if units else ""
            yield Candidate(
                pk,
                f"Low stock: {_part_label(name, ipn)}",
                f"{fmt(in_stock)}{unit} in stock, minimum {fmt(minimum)}{unit}.",
                url(pk),
                subscribers.subscribers(pk, path),
            )

    return raise_notifications(
        condition=C.LOW_STOCK, model=Part, candidates=candidates(), holds=holds
    )


def _check_stock_expiry(condition, window: Q, describe) -> int:
    items = StockItem.objects.in_stock().filter(window)
    holds = Part.objects.filter(Exists(items.filter(part_id=OuterRef("pk"))))
    subscribers = SubscriberMap()
    url = admin_change_url(Part)

    def candidates():
        if not subscribers:
            return
        rows = (
            items.filter(_subscribed_parts_q(subscribers, prefix="part__"))
            .order_by()
            .values("part_id", "part__name", "part__ipn", "part__category__tree_path")
            .annotate(n=Count("pk"), quantity=Sum("quantity"), earliest=Min("expiry_date"))
        )
        for row in rows.iterator(chunk_size=2000):
            label = _part_label(row["part__name"], row["part__ipn"])
            yield Candidate(
                row["part_id"],
                f"{describe}: {label}",
                f"{row['n']} stock item{'' if row['n'] == 1 else 's'} "
                f"({fmt(row['quantity'])} in total), the first on {row['earliest']:%Y-%m-%d}.",
                url(row["part_id"]),
                subscribers.subscribers(row["part_id"], row["part__category__tree_path"]),
            )

    return raise_notifications(
        condition=condition, model=Part, candidates=candidates(), holds=holds
    )


def check_stock_expiring(today=None) -> int:
    """Parts with stock in hand that expires within ``STOCK_EXPIRY_WARNING_DAYS`` days."""
    today = today or timezone.localdate()
    until = today + timedelta(days=settings.STOCK_EXPIRY_WARNING_DAYS)
    window = Q(expiry_date__gte=today, expiry_date__lte=until)
    return _check_stock_expiry(C.STOCK_EXPIRING, window, "Stock expiring soon")


def check_stock_expired(today=None) -> int:
    """Parts with stock in hand past its expiry date (``StockItem.objects.expired()``)."""
    today = today or timezone.localdate()
    return _check_stock_expiry(C.STOCK_EXPIRED, Q(expiry_date__lt=today), "Stock expired")


# ---------------------------------------------------------------- orders and builds


def _group_members(queryset) -> dict[int, set[int]]:
    """{group id: member ids} for the responsible groups of ``queryset`` (one query)."""
    membership = get_user_model().groups.through.objects.filter(
        group_id__in=queryset.filter(responsible_group__isnull=False)
        .order_by()
        .values("responsible_group_id")
    )
    members: dict[int, set[int]] = {}
    for group_id, user_id in membership.values_list("group_id", "user_id"):
        members.setdefault(group_id, set()).add(user_id)
    return members


def _check_overdue(condition, model, holds, kind: str, party: str | None, today) -> int:
    holds = holds.filter(Q(responsible_user__isnull=False) | Q(responsible_group__isnull=False))
    members = _group_members(holds)
    url = admin_change_url(model)
    fields = ["pk", "reference", "target_date", "responsible_user_id", "responsible_group_id"]
    if party:
        fields.append(f"{party}__name")

    def candidates():
        for row in holds.order_by("pk").values(*fields).iterator(chunk_size=2000):
            recipients = set(members.get(row["responsible_group_id"], ()))
            if row["responsible_user_id"]:
                recipients = {row["responsible_user_id"]}  # a named person before a group
            days = (today - row["target_date"]).days
            late = "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"
            who = f" ({row[f'{party}__name']})" if party and row[f"{party}__name"] else ""
            yield Candidate(
                row["pk"],
                f"{kind} {row['reference']} is overdue",
                f"Target date {row['target_date']:%Y-%m-%d} ({late}){who}.",
                url(row["pk"]),
                recipients,
            )

    return raise_notifications(
        condition=condition, model=model, candidates=candidates(), holds=holds
    )


def check_overdue_purchase_orders(today=None) -> int:
    from orders.choices import PURCHASE_OPEN
    from orders.models import PurchaseOrder
    from orders.selectors.common import overdue_q

    today = today or timezone.localdate()
    holds = PurchaseOrder.objects.filter(overdue_q(PURCHASE_OPEN, today))
    return _check_overdue(
        C.PURCHASE_ORDER_OVERDUE, PurchaseOrder, holds, "Purchase order", "supplier", today
    )


def check_overdue_sales_orders(today=None) -> int:
    from orders.choices import SALES_OPEN
    from orders.models import SalesOrder
    from orders.selectors.common import overdue_q

    today = today or timezone.localdate()
    holds = SalesOrder.objects.filter(overdue_q(SALES_OPEN, today))
    return _check_overdue(
        C.SALES_ORDER_OVERDUE, SalesOrder, holds, "Sales order", "customer", today
    )


def check_overdue_return_orders(today=None) -> int:
    from orders.choices import RETURN_OPEN
    from orders.models import ReturnOrder
    from orders.selectors.common import overdue_q

    today = today or timezone.localdate()
    holds = ReturnOrder.objects.filter(overdue_q(RETURN_OPEN, today))
    return _check_overdue(
        C.RETURN_ORDER_OVERDUE, ReturnOrder, holds, "Return order", "customer", today
    )


def check_overdue_build_orders(today=None) -> int:
    from builds.models import BuildOrder

    today = today or timezone.localdate()
    holds = BuildOrder.objects.overdue(today)
    return _check_overdue(C.BUILD_ORDER_OVERDUE, BuildOrder, holds, "Build order", "part", today)


def check_overdue_orders(today=None) -> int:
    """All four overdue checks (one scheduled task)."""
    return sum(
        check(today)
        for check in (
            check_overdue_purchase_orders,
            check_overdue_sales_orders,
            check_overdue_return_orders,
            check_overdue_build_orders,
        )
    )


# ---------------------------------------------------------------- background jobs


def job_administrator_ids() -> set[int]:
    """Staff users of the Administration role (``roles.holds_admin_role``: superusers and
    whoever holds the role with change; the demo groups hold it with view only)."""
    from admin_customisations.roles import admin_role_users

    return set(admin_role_users().filter(is_staff=True).values_list("pk", flat=True))


def check_failed_jobs(now=None) -> int:
    """Background jobs that failed in the last ``FAILED_JOB_DAYS`` days."""
    from admin_customisations.models import BackgroundJob

    now = now or timezone.now()
    holds = BackgroundJob.objects.filter(
        status=BackgroundJob.Status.FAILED, finished_at__gte=now - timedelta(days=FAILED_JOB_DAYS)
    )
    admins = job_administrator_ids()
    url = admin_change_url(BackgroundJob)

    def candidates():
        rows = holds.order_by("pk").values_list("pk", "name", "message", "created_by_id")
        for pk, name, message, owner in rows.iterator(chunk_size=2000):
            yield Candidate(
                pk,
                f"Job #{pk} failed: {name}",
                (message or "")[:500],
                url(pk),
                admins | ({owner} if owner else set()),
            )

    return raise_notifications(
        condition=C.JOB_FAILED, model=BackgroundJob, candidates=candidates(), holds=holds
    )


# ---------------------------------------------------------------- all of them

CHECKS = {
    "low_stock": check_low_stock,
    "stock_expiring": check_stock_expiring,
    "stock_expired": check_stock_expired,
    "overdue_orders": check_overdue_orders,
    "failed_jobs": check_failed_jobs,
}


def run_check(name: str) -> int:
    """Run check ``name`` and email what it raised; returns the notifications raised."""
    raised = CHECKS[name]()
    send_pending_emails()
    return raised


def run_all_checks() -> dict[str, int]:
    """Every check once (the demo load, ``manage.py run_checks``)."""
    raised = {name: check() for name, check in CHECKS.items()}
    send_pending_emails()
    return raised
