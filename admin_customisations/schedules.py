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
