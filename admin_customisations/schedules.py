"""Periodic tasks Stockroom installs in django-celery-beat (editable in the admin afterwards).

``sync_schedules`` creates each missing schedule and leaves existing ones as
people edited them (interval, enabled); it runs after ``migrate`` and from
``manage.py sync_schedules``.
"""

from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int
    description: str


HOUR = 3600
DAY = 24 * HOUR

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "Bulk jobs: reaper",
        "stockroom.reap_jobs",
        60,
        "Re-enqueues bulk jobs whose worker died, fails jobs that keep dying and removes "
        "expired job result files.",
    ),
    Schedule(
        "Dashboard: stock figures",
        "stockroom.refresh_dashboard",
        600,
        "Recomputes the home page's stock value, value by category and expiry counts "
        "(admin_customisations/dashboard/snapshot.py).",
    ),
    # the scheduled checks (admin_customisations/notifications, docs/notifications.md)
    Schedule(
        "Checks: low stock",
        "stockroom.check_low_stock",
        6 * HOUR,
        "Notifies subscribers of parts whose stock on hand is below the minimum.",
    ),
    Schedule(
        "Checks: stock expiry",
        "stockroom.check_stock_expiry",
        DAY,
        "Notifies subscribers of parts with stock expiring within STOCK_EXPIRY_WARNING_DAYS "
        "days or already expired.",
    ),
    Schedule(
        "Checks: overdue orders",
        "stockroom.check_overdue_orders",
        DAY,
        "Notifies the responsible user or group of overdue purchase, sales, return and "
        "build orders.",
    ),
    Schedule(
        "Checks: failed background jobs",
        "stockroom.check_failed_jobs",
        HOUR,
        "Notifies the Administration role and the job's user of failed background jobs.",
    ),
    Schedule(
        "Maintenance: prune task results",
        "stockroom.prune_task_results",
        DAY,
        "Deletes Celery task results older than TASK_RESULT_RETENTION_DAYS days.",
    ),
)


@transaction.atomic
def sync_schedules() -> list[str]:
    """Create the missing periodic tasks; returns the names created."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = []
    for schedule in SCHEDULES:
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.create(
            name=schedule.name,
            task=schedule.task,
            interval=interval,
            description=schedule.description,
        )
        created.append(schedule.name)
    return created
