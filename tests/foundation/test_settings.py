"""Configuration from the environment: bad values fail in one line; production passes --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(tmp_path, *args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    clean.update({"STOCKROOM_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path):
    return {
        "STOCKROOM_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "stockroom.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://stockroom.example.com",
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL 'not a url' is not usable"),
        ({"DATABASE_URL": "mysql2://x"}, "DATABASE_URL 'mysql2://x' is not usable"),
        ({"CELERY_BROKER_URL": "carrier-pigeon://loft"}, "CELERY_BROKER_URL"),
        ({"DEBUG": "maybe"}, "maybe"),
        ({"STOCKROOM_MODE": "staging"}, "STOCKROOM_MODE 'staging' is not one of"),
        ({"STOCKROOM_MODE": "production"}, "SECRET_KEY must be set when STOCKROOM_MODE=production"),
    ],
)
def test_bad_configuration_fails_with_one_line(tmp_path, env, expected):
    result = run_manage(tmp_path, "check", **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Stockroom configuration error:")
    assert expected in lines[0]


def test_production_needs_a_long_secret_key(tmp_path):
    result = run_manage(tmp_path, "check", **{**production_env(tmp_path), "SECRET_KEY": "short"})
    assert result.returncode == 2
    assert "at least 50" in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_embedded_mode_generates_a_secret_key_once(tmp_path):
    first = run_manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    )
    second = run_manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    )
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    assert second.stdout.strip() == key
    assert (tmp_path / "secret_key").read_text().strip() == key


def test_embedded_sqlite_uses_wal_and_a_busy_timeout(tmp_path):
    code = (
        "from django.db import connection; c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0]);"
        "print(connection.settings_dict['OPTIONS']['timeout'])"
    )
    result = run_manage(tmp_path, "shell", "-v", "0", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20"]
