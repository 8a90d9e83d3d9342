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
    """The Redis URL tests use: CELERY_BROKER_URL when it is Redis, else a local default."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis") else "redis://127.0.0.1:6379/15"


def require_redis() -> str:
    url = redis_url()
    parsed = urlparse(url)
    if not tcp_reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        pytest.skip(f"Redis not reachable at {url}")
    return url


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (see .ci/run)")
