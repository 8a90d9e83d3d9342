"""The health task runs through a real Celery worker (not eager mode)."""

import pytest
from celery.contrib.testing.worker import start_worker

from admin_customisations.tasks import health_check
from config.celery import app


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["filesystem", "redis"], indirect=True)
def test_health_task_runs_on_a_real_worker(broker, django_user_model):
    django_user_model.objects.create_user("someone")
    assert not app.conf.task_always_eager
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        result = health_check.delay()
        outcome = result.get(timeout=30)
    assert outcome["status"] == "ok"
    assert outcome["users"] == 1
    assert result.status == "SUCCESS"
