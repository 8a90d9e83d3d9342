"""Celery tasks of the scheduled checks (interfaces: each runs one check as the scheduler).

Beat runs them from the schedules in ``admin_customisations.schedules``; each is
idempotent (a second run raises nothing new while the conditions persist).
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from admin_customisations.notifications import checks
from inventory.services.actors import acting_as


def _run(name: str, label: str) -> int:
    with acting_as("scheduler", reason=f"Scheduled check: {label}"):
        return checks.run_check(name)


@shared_task(name="stockroom.check_low_stock")
def check_low_stock() -> int:
    return _run("low_stock", "low stock")


@shared_task(name="stockroom.check_stock_expiry")
def check_stock_expiry() -> int:
    with acting_as("scheduler", reason="Scheduled check: stock expiry"):
        raised = checks.check_stock_expiring() + checks.check_stock_expired()
        checks.send_pending_emails()
        return raised


@shared_task(name="stockroom.check_overdue_orders")
def check_overdue_orders() -> int:
    return _run("overdue_orders", "overdue orders and builds")


@shared_task(name="stockroom.check_failed_jobs")
def check_failed_jobs() -> int:
    return _run("failed_jobs", "failed background jobs")


PRUNE_BATCH = 5000


@shared_task(name="stockroom.prune_task_results")
def prune_task_results() -> int:
    """Delete Celery task results older than ``TASK_RESULT_RETENTION_DAYS`` (in batches)."""
    from django_celery_results.models import TaskResult

    cutoff = timezone.now() - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS)
    old = TaskResult.objects.filter(date_done__lt=cutoff)
    removed = 0
    with acting_as("scheduler", reason="Scheduled task: prune task results"):
        while ids := list(old.order_by("pk").values_list("pk", flat=True)[:PRUNE_BATCH]):
            removed += TaskResult.objects.filter(pk__in=ids).delete()[0]
    return removed
