"""Detect optional services so tests that need them skip with a clear reason."""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection


def tcp_reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_url() -> str:
    """The Redis URL tests use: CELERY_BROKER_URL's server when it is Redis, else a local one.

    Each pytest-xdist process gets a database of its own (10, 11, …): two test workers
    consuming the same queue would take each other's tasks."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    url = url if url.startswith("redis") else "redis://127.0.0.1:6379/15"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        url = urlparse(url)._replace(path=f"/{10 + int(worker[2:]) % 3}").geturl()
    return url


def require_redis() -> str:
    url = redis_url()
    parsed = urlparse(url)
    if not tcp_reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        pytest.skip(f"Redis not reachable at {url}")
    return url


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (see .ci/run)")
