"""A bulk job survives SIGKILL of its whole worker process (subprocess workers, both brokers).

Everything runs as an operator would run it: a fresh database migrated by
``manage.py migrate``, the job started through the runner, ``celery worker``
processes started and killed, the reaper run as beat would run it.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.services import require_redis

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 1500

SETUP = f"""
from django.contrib.auth.models import User
from inventory.models import StockItem
from admin_customisations.models import BackgroundJob
from admin_customisations.jobs.runner import enqueue
from tests import factories
boss = User.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
part, place = factories.PartFactory(), factories.StockLocationFactory()
StockItem.objects.bulk_create(StockItem(part=part, location=place, quantity=2) for _ in range({ITEMS}))
job = BackgroundJob.objects.create(
    name="Change status", task_name="stockroom.run_bulk_job",
    action="inventory.stockitem:change_status",
    params={{"status": ["50"], "notes": ["kill test"]}},
    selection={{"query": f"location={{place.pk}}"}}, created_by=boss)
enqueue(job)
print("JOB", job.pk)
"""

REPORT = """
import json
from django.db.models import Count
from inventory.models import StockItem, StockItemTracking
from admin_customisations.models import BackgroundJob, JobItem
job = BackgroundJob.objects.latest("pk")
history = StockItem.history.filter(history_type="~").values("id").annotate(n=Count("history_id"))
tracking = StockItemTracking.objects.values("item_id").annotate(n=Count("id"))
print("REPORT", json.dumps({
    "status": job.status, "total": job.total, "succeeded": job.succeeded, "attempts": job.attempts,
    "job_items": JobItem.objects.filter(job=job).count(),
    "changed": StockItem.objects.filter(status=50).count(),
    "history_per_item": sorted({row["n"] for row in history}),
    "history_items": len(history),
    "tracking_per_item": sorted({row["n"] for row in tracking}),
    "reasons_ok": not StockItem.history.filter(history_type="~").exclude(
        history_change_reason__endswith=f"(job #{job.pk})").exists(),
}))
"""


class Database:
    """A throw-away database for the subprocesses: SQLite in a folder, or a new PostgreSQL db."""

    def __init__(self, tmp_path):
        url = os.environ.get("DATABASE_URL", "")
        self.postgres = url.startswith("postgres")
        if self.postgres:
            import psycopg

            parsed = urlparse(url)
            self.name = f"stockroom_kill_{uuid.uuid4().hex[:8]}"
            self.admin_dsn = url
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = parsed._replace(path=f"/{self.name}").geturl()
        else:
            self.path = tmp_path / "var" / "stockroom.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def job_progress(self):
        sql = "SELECT done, status FROM admin_customisations_backgroundjob ORDER BY id DESC LIMIT 1"
        return self._query(sql)

    def make_heartbeat_old(self):
        self._query(
            "UPDATE admin_customisations_backgroundjob SET heartbeat_at = '2000-01-01 00:00:00+00:00'",
            write=True,
        )

    def _query(self, sql, write=False):
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                cursor = conn.execute(sql)
                return None if write else cursor.fetchone()
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            row = conn.execute(sql).fetchone()
            conn.commit()
            return row
        finally:
            conn.close()

    def drop(self):
        if self.postgres:
            import psycopg

            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(params=["filesystem", "redis"])
def stack(request, tmp_path):
    database = Database(tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))},
        "STOCKROOM_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database.url,
        "BULK_JOB_CHUNK_SIZE": "25",
        "PYTHONPATH": str(ROOT),
    }
    if request.param == "redis":
        url = require_redis().rsplit("/", 1)[0] + "/13"
        import redis

        redis.Redis.from_url(url).flushdb()
        env["CELERY_BROKER_URL"] = url
    else:
        env.pop("CELERY_BROKER_URL", None)
    yield env, database
    database.drop()


def manage(env, *args, code=None):
    command = [sys.executable, "manage.py", *args] + (["-c", code] if code else [])
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def start_worker(env):
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(condition, timeout=180):
    """Poll ``condition`` until it returns a true value (the worker runs in another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


def test_a_job_survives_sigkill_of_the_whole_worker(stack):
    stack, database = stack

    manage(stack, "migrate", "--noinput", "-v", "0")
    assert "JOB" in manage(stack, "shell", code=SETUP)

    first = start_worker(stack)
    try:
        wait_until(lambda: (database.job_progress() or (0,))[0] >= 200)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    done, status = database.job_progress()
    assert status == "running" and 200 <= done < ITEMS

    database.make_heartbeat_old()  # as if the stale period had passed
    reaped = manage(
        stack, "shell", code="from admin_customisations.jobs.runner import reap; print(reap())"
    )
    assert "'requeued': [" in reaped and "'requeued': []" not in reaped

    second = start_worker(stack)
    try:
        wait_until(lambda: database.job_progress()[1] == "succeeded")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)

    line = next(
        x for x in manage(stack, "shell", code=REPORT).splitlines() if x.startswith("REPORT")
    )
    report = json.loads(line.split(" ", 1)[1])
    assert (
        report["total"] == report["succeeded"] == report["job_items"] == report["changed"] == ITEMS
    )
    assert report["attempts"] == 2
    assert report["history_items"] == ITEMS and report["history_per_item"] == [1]
    assert report["tracking_per_item"] == [1]
    assert report["reasons_ok"]
