"""Every admin action declares the permission it needs; view-only users cannot run them."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from fixtures.accounts import ensure_demo_accounts

pytestmark = pytest.mark.django_db


def _all_actions():
    for model, model_admin in admin.site._registry.items():
        for func, name, _ in model_admin._get_base_actions():
            yield f"{model._meta.label_lower}.{name}", func
        extract = getattr(model_admin, "_extract_action_names", None)
        if extract is None:
            continue
        for group in ("actions_list", "actions_row", "actions_detail", "actions_submit_line"):
            for name in extract(getattr(model_admin, group, ()) or ()):
                method = model_admin.get_unfold_action(name).method
                yield f"{model._meta.label_lower}.{group}.{name}", method


def test_every_registered_action_declares_its_permission():
    missing = [
        label for label, func in _all_actions() if not getattr(func, "allowed_permissions", None)
    ]
    assert missing == [], f"actions without @admin.action(permissions=[...]): {missing}"


@pytest.fixture
def task():
    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    return PeriodicTask.objects.create(
        name="nightly", task="celery.backend_cleanup", interval=every
    )


@pytest.mark.parametrize("action", ["enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"])
def test_reader_cannot_run_or_toggle_periodic_tasks(client, task, action):
    ensure_demo_accounts()
    client.force_login(User.objects.get(username="reader"))
    url = "/admin/django_celery_beat/periodictask/"
    page = client.get(url).content.decode()
    assert f'value="{action}"' not in page
    before = list(PeriodicTask.objects.values("enabled", "total_run_count", "last_run_at"))
    response = client.post(url, {"action": action, "_selected_action": [task.pk], "index": "0"})
    assert response.status_code in (200, 302)
    assert list(PeriodicTask.objects.values("enabled", "total_run_count", "last_run_at")) == before


def test_admin_still_sees_the_periodic_task_actions(client, task):
    ensure_demo_accounts()
    client.force_login(User.objects.get(username="admin"))
    page = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    for action in ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"):
        assert f'value="{action}"' in page
    response = client.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": "disable_tasks", "_selected_action": [task.pk], "index": "0"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.enabled is False
