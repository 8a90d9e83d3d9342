"""Configuration from the environment: bad values fail in one line; production passes --deploy."""

import json
import os
import re
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


def test_production_refuses_debug(tmp_path):
    result = run_manage(tmp_path, "check", **{**production_env(tmp_path), "DEBUG": "true"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Stockroom configuration error: DEBUG must be off")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AXES_FAILURE_LIMIT": "five"}, "AXES_FAILURE_LIMIT='five' is not a whole number"),
        ({"AXES_FAILURE_LIMIT": "0"}, "AXES_FAILURE_LIMIT='0' must be at least 1"),
        ({"SQLITE_BUSY_TIMEOUT": "soon"}, "SQLITE_BUSY_TIMEOUT='soon' is not a whole number"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE 'Mars/Olympus' is not a known time zone"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL 'CHATTY' is not one of"),
        ({"STOCK_OWNERSHIP_CONTROL": "sometimes"}, "STOCK_OWNERSHIP_CONTROL='sometimes'"),
        ({"EMAIL_URL": "pigeon://u:pw@loft"}, "EMAIL_URL 'loft' is not an email URL"),
        ({"TASK_RESULT_RETENTION_DAYS": "0"}, "TASK_RESULT_RETENTION_DAYS='0' must be at least 1"),
    ],
)
def test_bad_numbers_and_names_fail_with_one_line(tmp_path, env, expected):
    result = run_manage(tmp_path, "check", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


# --- Settings reach Django -------------------------------------------------------------
# Every variable in README's Configuration table is set in a real process environment and
# read back from django.conf.settings (no override_settings). A variable documented but not
# listed here fails test_every_documented_variable_is_checked.

# variable -> Python expression (evaluated with ``settings`` in scope) giving its effect
READS = {
    "STOCKROOM_MODE": "settings.STOCKROOM_MODE",
    "DATABASE_URL": "settings.DATABASES['default']['NAME']",
    "DATABASE_CONN_MAX_AGE": "settings.DATABASES['default'].get('CONN_MAX_AGE')",
    "SQLITE_BUSY_TIMEOUT": "settings.DATABASES['default'].get('OPTIONS', {}).get('timeout')",
    "CELERY_BROKER_URL": "settings.CELERY_BROKER_URL",
    "SECRET_KEY": "settings.SECRET_KEY",
    "DEBUG": "settings.DEBUG",
    "ALLOWED_HOSTS": "settings.ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS": "settings.CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT": "settings.SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE": "settings.SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE": "settings.CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS": "settings.SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD": "settings.SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER": "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None) is not None",
    "STOCKROOM_ENVIRONMENT_LABEL": "settings.ENVIRONMENT_LABEL",
    "STOCKROOM_VAR_DIR": "str(settings.VAR_DIR)",
    "TIME_ZONE": "settings.TIME_ZONE",
    "LOG_LEVEL": "settings.LOGGING['root']['level']",
    "STOCK_DELETE_DEPLETED_DEFAULT": "settings.STOCK_DELETE_DEPLETED_DEFAULT",
    "STOCK_ALLOW_OUT_OF_STOCK_TRANSFER": "settings.STOCK_ALLOW_OUT_OF_STOCK_TRANSFER",
    "STOCK_OWNERSHIP_CONTROL": "settings.STOCK_OWNERSHIP_CONTROL",
    "PURCHASE_ORDER_REFERENCE_PATTERN": "settings.PURCHASE_ORDER_REFERENCE_PATTERN",
    "SALES_ORDER_REFERENCE_PATTERN": "settings.SALES_ORDER_REFERENCE_PATTERN",
    "RETURN_ORDER_REFERENCE_PATTERN": "settings.RETURN_ORDER_REFERENCE_PATTERN",
    "BUILD_REFERENCE_PATTERN": "settings.BUILD_REFERENCE_PATTERN",
    "PURCHASE_ORDER_AUTO_COMPLETE": "settings.PURCHASE_ORDER_AUTO_COMPLETE",
    "SALES_ORDER_SHIP_COMPLETE": "settings.SALES_ORDER_SHIP_COMPLETE",
    "BUILDORDER_REQUIRE_CLOSED_CHILDS": "settings.BUILDORDER_REQUIRE_CLOSED_CHILDS",
    "ORDERS_RESPONSIBLE_ONLY": "settings.ORDERS_RESPONSIBLE_ONLY",
    "AXES_FAILURE_LIMIT": "settings.AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES": "settings.AXES_COOLOFF_TIME and settings.AXES_COOLOFF_TIME.seconds // 60",
    "TRUSTED_PROXY_COUNT": "settings.TRUSTED_PROXY_COUNT",
    "BULK_JOB_THRESHOLD": "settings.BULK_JOB_THRESHOLD",
    "BULK_JOB_CHUNK_SIZE": "settings.BULK_JOB_CHUNK_SIZE",
    "BULK_JOB_STALE_SECONDS": "settings.BULK_JOB_STALE_SECONDS",
    "BULK_JOB_MAX_ATTEMPTS": "settings.BULK_JOB_MAX_ATTEMPTS",
    "BULK_JOB_FILE_DAYS": "settings.BULK_JOB_FILE_DAYS",
    "STOCK_AS_OF_JOB_ROWS": "settings.STOCK_AS_OF_JOB_ROWS",
    "IMPORT_MAX_FILE_MB": "settings.IMPORT_MAX_FILE_MB",
    "IMPORT_MAX_ROWS": "settings.IMPORT_MAX_ROWS",
    "IMPORT_MAX_COLUMNS": "settings.IMPORT_MAX_COLUMNS",
    "IMPORT_MAX_XLSX_MB": "settings.IMPORT_MAX_XLSX_MB",
    "IMPORT_JOB_BYTES": "settings.IMPORT_JOB_BYTES",
    "IMPORT_CHUNK_ROWS": "settings.IMPORT_CHUNK_ROWS",
    "CELERY_VISIBILITY_TIMEOUT": "getattr(settings, 'CELERY_BROKER_TRANSPORT_OPTIONS', {}).get('visibility_timeout')",
    "STOCK_EXPIRY_WARNING_DAYS": "settings.STOCK_EXPIRY_WARNING_DAYS",
    "TASK_RESULT_RETENTION_DAYS": "settings.TASK_RESULT_RETENTION_DAYS",
    "EMAIL_URL": "[settings.EMAIL_BACKEND, getattr(settings, 'EMAIL_HOST', ''), getattr(settings, 'EMAIL_PORT', None), getattr(settings, 'EMAIL_HOST_USER', ''), bool(getattr(settings, 'EMAIL_USE_TLS', False))]",
    "DEFAULT_FROM_EMAIL": "settings.DEFAULT_FROM_EMAIL",
    "STOCKROOM_BASE_URL": "settings.STOCKROOM_BASE_URL",
    # what the services ask, not only the setting
    "ownership_enabled()": "__import__('inventory.permissions').permissions.ownership_enabled()",
    "responsible_only()": "__import__('inventory.responsibility').responsibility.responsible_only()",
}
# Read by the Procfile (and honcho/make), not by Django
PROCFILE_VARIABLES = {"PORT", "BIND_HOST", "WEB_CONCURRENCY", "CELERY_CONCURRENCY"}


def documented_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def read_settings(tmp_path, env):
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{k: eval(v) for k, v in {READS!r}.items()}}, default=str))"
    )
    result = run_manage(tmp_path, "shell", "-v", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_documented_variable_is_checked():
    documented = documented_variables()
    assert "STOCK_OWNERSHIP_CONTROL" in documented  # the table was found
    assert documented - PROCFILE_VARIABLES - set(READS) == set()
    variables = {name for name in READS if name.isupper()}
    assert variables - documented == set(), "read by settings but missing from README"
    procfile = (ROOT / "Procfile").read_text()
    for name in PROCFILE_VARIABLES:
        assert f"${{{name}:-" in procfile, name


def test_documented_variables_reach_django_embedded(tmp_path):
    """Embedded mode, every switch the opposite of its default (booleans spelt variously)."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}",
        "SQLITE_BUSY_TIMEOUT": "7",
        "DEBUG": "yes",
        "ALLOWED_HOSTS": "a.example,b.example",
        "CSRF_TRUSTED_ORIGINS": "https://a.example",
        "SECURE_SSL_REDIRECT": "on",
        "SESSION_COOKIE_SECURE": "1",
        "CSRF_COOKIE_SECURE": "true",
        "SECURE_HSTS_SECONDS": "60",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "TRUE",
        "SECURE_HSTS_PRELOAD": "Yes",
        "SECURE_PROXY_SSL_HEADER": "true",
        "STOCKROOM_ENVIRONMENT_LABEL": "Staging",
        "TIME_ZONE": "Europe/Zurich",
        "LOG_LEVEL": "warning",
        "STOCK_DELETE_DEPLETED_DEFAULT": "false",
        "STOCK_ALLOW_OUT_OF_STOCK_TRANSFER": "true",
        "STOCK_OWNERSHIP_CONTROL": "true",
        "PURCHASE_ORDER_REFERENCE_PATTERN": "P{ref:05d}",
        "SALES_ORDER_REFERENCE_PATTERN": "S{ref:05d}",
        "RETURN_ORDER_REFERENCE_PATTERN": "R{ref:05d}",
        "BUILD_REFERENCE_PATTERN": "B{ref:05d}",
        "PURCHASE_ORDER_AUTO_COMPLETE": "no",
        "SALES_ORDER_SHIP_COMPLETE": "yes",
        "BUILDORDER_REQUIRE_CLOSED_CHILDS": "off",
        "ORDERS_RESPONSIBLE_ONLY": "on",
        "AXES_FAILURE_LIMIT": "3",
        "AXES_COOLOFF_MINUTES": "45",
        "TRUSTED_PROXY_COUNT": "1",
        "BULK_JOB_THRESHOLD": "50",
        "BULK_JOB_CHUNK_SIZE": "25",
        "BULK_JOB_STALE_SECONDS": "90",
        "BULK_JOB_MAX_ATTEMPTS": "2",
        "BULK_JOB_FILE_DAYS": "3",
        "STOCK_AS_OF_JOB_ROWS": "5000",
        "IMPORT_MAX_FILE_MB": "5",
        "IMPORT_MAX_ROWS": "1000",
        "IMPORT_MAX_COLUMNS": "30",
        "IMPORT_MAX_XLSX_MB": "50",
        "IMPORT_JOB_BYTES": "2048",
        "IMPORT_CHUNK_ROWS": "250",
        "CELERY_VISIBILITY_TIMEOUT": "7200",
        "STOCK_EXPIRY_WARNING_DAYS": "14",
        "TASK_RESULT_RETENTION_DAYS": "90",
        "EMAIL_URL": "smtp+tls://mailer:secret@mail.example:2525",
        "DEFAULT_FROM_EMAIL": "stock@example.com",
        "STOCKROOM_BASE_URL": "https://stock.example/",
    }
    values = read_settings(tmp_path, env)
    assert values == {
        "STOCKROOM_MODE": "embedded",
        "DATABASE_URL": str(tmp_path / "other.sqlite3"),
        "DATABASE_CONN_MAX_AGE": 0,  # SQLite: Django's default, the variable is for PostgreSQL
        "SQLITE_BUSY_TIMEOUT": 7,
        "CELERY_BROKER_URL": "filesystem://",
        "SECRET_KEY": (tmp_path / "secret_key").read_text().strip(),
        "DEBUG": True,
        "ALLOWED_HOSTS": ["a.example", "b.example"],
        "CSRF_TRUSTED_ORIGINS": ["https://a.example"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": True,
        "STOCKROOM_ENVIRONMENT_LABEL": "Staging",
        "STOCKROOM_VAR_DIR": str(tmp_path.resolve()),
        "TIME_ZONE": "Europe/Zurich",
        "LOG_LEVEL": "WARNING",
        "STOCK_DELETE_DEPLETED_DEFAULT": False,
        "STOCK_ALLOW_OUT_OF_STOCK_TRANSFER": True,
        "STOCK_OWNERSHIP_CONTROL": True,
        "PURCHASE_ORDER_REFERENCE_PATTERN": "P{ref:05d}",
        "SALES_ORDER_REFERENCE_PATTERN": "S{ref:05d}",
        "RETURN_ORDER_REFERENCE_PATTERN": "R{ref:05d}",
        "BUILD_REFERENCE_PATTERN": "B{ref:05d}",
        "PURCHASE_ORDER_AUTO_COMPLETE": False,
        "SALES_ORDER_SHIP_COMPLETE": True,
        "BUILDORDER_REQUIRE_CLOSED_CHILDS": False,
        "ORDERS_RESPONSIBLE_ONLY": True,
        "AXES_FAILURE_LIMIT": 3,
        "AXES_COOLOFF_MINUTES": 45,
        "TRUSTED_PROXY_COUNT": 1,
        "BULK_JOB_THRESHOLD": 50,
        "BULK_JOB_CHUNK_SIZE": 25,
        "BULK_JOB_STALE_SECONDS": 90,
        "BULK_JOB_MAX_ATTEMPTS": 2,
        "BULK_JOB_FILE_DAYS": 3,
        "STOCK_AS_OF_JOB_ROWS": 5000,
        "IMPORT_MAX_FILE_MB": 5,
        "IMPORT_MAX_ROWS": 1000,
        "IMPORT_MAX_COLUMNS": 30,
        "IMPORT_MAX_XLSX_MB": 50,
        "IMPORT_JOB_BYTES": 2048,
        "IMPORT_CHUNK_ROWS": 250,
        "CELERY_VISIBILITY_TIMEOUT": None,  # the file broker has no visibility timeout
        "STOCK_EXPIRY_WARNING_DAYS": 14,
        "TASK_RESULT_RETENTION_DAYS": 90,
        "EMAIL_URL": [
            "django.core.mail.backends.smtp.EmailBackend",
            "mail.example",
            2525,
            "mailer",
            True,
        ],
        "DEFAULT_FROM_EMAIL": "stock@example.com",
        "STOCKROOM_BASE_URL": "https://stock.example",
        "ownership_enabled()": True,
        "responsible_only()": True,
    }


def test_documented_variables_reach_django_production(tmp_path):
    """Production mode (PostgreSQL URL, never connected), switches set the other way."""
    secret = secrets.token_urlsafe(60)
    env = {
        **production_env(tmp_path),
        "SECRET_KEY": secret,
        "DATABASE_URL": "postgres://stock:pw@db.internal:5432/stockroom",
        "DATABASE_CONN_MAX_AGE": "5",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "off",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "no",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
        "SECURE_HSTS_PRELOAD": "false",
        "SECURE_PROXY_SSL_HEADER": "false",
        "STOCK_DELETE_DEPLETED_DEFAULT": "true",
        "STOCK_OWNERSHIP_CONTROL": "false",
        "PURCHASE_ORDER_AUTO_COMPLETE": "true",
        "SALES_ORDER_SHIP_COMPLETE": "false",
        "BUILDORDER_REQUIRE_CLOSED_CHILDS": "true",
        "ORDERS_RESPONSIBLE_ONLY": "false",
        "AXES_COOLOFF_MINUTES": "0",
        "CELERY_VISIBILITY_TIMEOUT": "5400",
    }
    values = read_settings(tmp_path, env)
    expected = {
        "STOCKROOM_MODE": "production",
        "DATABASE_URL": "stockroom",
        "DATABASE_CONN_MAX_AGE": 5,
        "SQLITE_BUSY_TIMEOUT": None,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": secret,
        "DEBUG": False,
        "ALLOWED_HOSTS": ["stockroom.example.com"],
        "CSRF_TRUSTED_ORIGINS": ["https://stockroom.example.com"],
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": False,
        "STOCKROOM_ENVIRONMENT_LABEL": "Production",
        "STOCK_DELETE_DEPLETED_DEFAULT": True,
        "STOCK_OWNERSHIP_CONTROL": False,
        "PURCHASE_ORDER_AUTO_COMPLETE": True,
        "SALES_ORDER_SHIP_COMPLETE": False,
        "BUILDORDER_REQUIRE_CLOSED_CHILDS": True,
        "ORDERS_RESPONSIBLE_ONLY": False,
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_MINUTES": None,  # 0: locked until an administrator resets
        "BULK_JOB_THRESHOLD": 200,
        "IMPORT_MAX_FILE_MB": 20,
        "IMPORT_MAX_ROWS": 200000,
        "IMPORT_MAX_COLUMNS": 100,
        "IMPORT_MAX_XLSX_MB": 200,
        "CELERY_VISIBILITY_TIMEOUT": 5400,  # Redis broker: redelivery after this many seconds
        # unset: notification emails go to the worker's output
        "EMAIL_URL": ["django.core.mail.backends.console.EmailBackend", "localhost", 25, "", False],
        "STOCK_EXPIRY_WARNING_DAYS": 30,
        "TASK_RESULT_RETENTION_DAYS": 30,
        "DEFAULT_FROM_EMAIL": "stockroom@localhost",
        "STOCKROOM_BASE_URL": "",
        "ownership_enabled()": False,
        "responsible_only()": False,
    }
    assert {k: values[k] for k in expected} == expected
