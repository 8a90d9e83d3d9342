"""The periodic tasks installed by default, and the pruning of old task results."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from admin_customisations.notifications import tasks
from admin_customisations.schedules import SCHEDULES, sync_schedules
from config.celery import app

pytestmark = pytest.mark.django_db

EXPECTED_TASKS = {
    "stockroom.reap_jobs",
    "stockroom.check_low_stock",
    "stockroom.check_stock_expiry",
    "stockroom.check_overdue_orders",
    "stockroom.check_failed_jobs",
    "stockroom.prune_task_results",
    "stockroom.refresh_dashboard",
}


def test_every_check_is_scheduled_after_migrate_and_the_task_exists():
    # post_migrate ran sync_schedules on the test database
    installed = dict(PeriodicTask.objects.values_list("task", "enabled"))
    assert EXPECTED_TASKS <= set(installed)
    assert all(installed[name] for name in EXPECTED_TASKS)
    app.loader.import_default_modules()
    assert EXPECTED_TASKS <= set(app.tasks)
    assert {s.task for s in SCHEDULES} == EXPECTED_TASKS


def test_sync_schedules_is_idempotent_and_keeps_edits():
    task = PeriodicTask.objects.get(task="stockroom.check_low_stock")
    task.enabled = False
    task.save()
    assert sync_schedules() == []
    call_command("sync_schedules", stdout=io.StringIO())
    assert PeriodicTask.objects.filter(task="stockroom.check_low_stock").count() == 1
    assert PeriodicTask.objects.get(task="stockroom.check_low_stock").enabled is False
    PeriodicTask.objects.filter(task="stockroom.check_failed_jobs").delete()
    assert sync_schedules() == ["Checks: failed background jobs"]


def test_prune_task_results_keeps_the_recent_ones(settings):
    settings.TASK_RESULT_RETENTION_DAYS = 10
    now = timezone.now()
    for n, age in enumerate((11, 30, 9, 0)):
        result = TaskResult.objects.create(task_id=f"t{n}", status="SUCCESS")
        TaskResult.objects.filter(pk=result.pk).update(date_done=now - timedelta(days=age))
    assert tasks.prune_task_results() == 2
    assert sorted(TaskResult.objects.values_list("task_id", flat=True)) == ["t2", "t3"]


def test_run_checks_command():
    from decimal import Decimal

    from inventory.models import Part, PartSubscription
    from tests.factories import PartFactory, UserFactory

    part = PartFactory(minimum_stock=5)
    Part.objects.filter(pk=part.pk).update(in_stock_total=Decimal(1))
    PartSubscription.objects.create(user=UserFactory(), part=part)
    out = io.StringIO()
    call_command("run_checks", "--check", "low_stock", stdout=out)
    assert out.getvalue() == "low_stock: 1 notification raised\n"
    out = io.StringIO()
    call_command("run_checks", stdout=out)
    assert "low_stock: 0 notifications raised" in out.getvalue()
    assert "failed_jobs: 0 notifications raised" in out.getvalue()
