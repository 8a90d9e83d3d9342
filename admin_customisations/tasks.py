"""Site-wide Celery tasks."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone


@shared_task(name="stockroom.health_check")
def health_check() -> dict:
    """Prove a worker is alive and can reach the database."""
    return {
        "status": "ok",
        "users": get_user_model().objects.count(),
        "checked_at": timezone.now().isoformat(),
    }


# The job runner's tasks live with the runner; importing them here registers them with Celery.
from admin_customisations.dashboard.tasks import refresh_dashboard  # noqa: E402, F401
from admin_customisations.jobs.tasks import reap_jobs, run_bulk_job  # noqa: E402, F401
from admin_customisations.notifications.tasks import (  # noqa: E402, F401  (the scheduled checks)
    check_failed_jobs,
    check_low_stock,
    check_overdue_orders,
    check_stock_expiry,
    prune_task_results,
)
