"""The ``broker`` fixture: run a test's Celery worker on the file broker or on Redis."""

import pytest

from config.celery import app
from tests.services import require_redis


@pytest.fixture
def broker(request, tmp_path, monkeypatch):
    """Point the Celery app at the requested broker for one test, then restore it.

    Celery prefers the CELERY_BROKER_URL environment variable (set by .ci/run for the
    PostgreSQL + Redis pass) over its configuration, so the variable is set too; otherwise
    every "filesystem" test would share one Redis queue and take other tests' tasks."""
    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}
    if request.param == "filesystem":
        folder = tmp_path / "broker"
        for sub in ("queue", "control"):
            (folder / sub).mkdir(parents=True)
        app.conf.broker_url = "filesystem://"
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    else:
        import redis

        app.conf.broker_url = require_redis()
        app.conf.broker_transport_options = {}
        redis.Redis.from_url(app.conf.broker_url).flushdb()  # no messages left by an earlier run
    monkeypatch.setenv("CELERY_BROKER_URL", app.conf["broker_url"])
    app._pool = None  # connection pools are cached per broker URL
    app.amqp._producer_pool = None
    yield request.param
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None
