"""The ``broker`` fixture: run a test's Celery worker on the file broker or on Redis."""

import pytest

from config.celery import app
from tests.services import require_redis


@pytest.fixture
def broker(request, tmp_path):
    """Point the Celery app at the requested broker for one test, then restore it."""
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
        app.conf.broker_url = require_redis()
        app.conf.broker_transport_options = {}
    app._pool = None  # connection pools are cached per broker URL
    app.amqp._producer_pool = None
    yield request.param
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None
