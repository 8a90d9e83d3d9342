"""Reading and validating configuration from the environment.

Configuration mistakes stop the process with one readable line on stderr
instead of a traceback, because the person reading it is usually an operator.
"""

import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

import environ

env = environ.Env()


class ConfigurationError(Exception):
    """A setting is missing or unusable; the message says which and why."""


def fail(message: str) -> None:
    """Print a one-line configuration error and exit with status 2."""
    sys.stderr.write(f"Stockroom configuration error: {message}\n")
    raise SystemExit(2)


def database_config(url: str, *, sqlite_timeout: int) -> dict:
    """Turn a DATABASE_URL into a DATABASES entry, tuned for SQLite concurrency."""
    scheme = urlparse(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigurationError(
            f"DATABASE_URL {url!r} is not usable: expected sqlite:///path or "
            "postgres://user@host:port/dbname"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ConfigurationError(f"DATABASE_URL {url!r} cannot be parsed ({exc})") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not config.get("NAME"):
            raise ConfigurationError(f"DATABASE_URL {url!r} names no SQLite file")
        config["OPTIONS"] = {
            # WAL lets the web server read while the worker writes; IMMEDIATE
            # transactions and a busy timeout make writers queue instead of failing.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": sqlite_timeout,
        }
    else:
        if not config.get("NAME"):
            raise ConfigurationError(f"DATABASE_URL {url!r} names no database")
        config["CONN_MAX_AGE"] = strict_int("DATABASE_CONN_MAX_AGE", default=60, minimum=0)
        config["CONN_HEALTH_CHECKS"] = True
    return config


def broker_url_valid(url: str) -> None:
    """Refuse broker URLs Celery would only reject at first use."""
    scheme = urlparse(url).scheme
    if scheme not in {"filesystem", "redis", "rediss", "amqp", "memory"}:
        raise ConfigurationError(
            f"CELERY_BROKER_URL {url!r} is not usable: expected redis://host:port/db "
            "(or leave it unset for the embedded file broker)"
        )


def embedded_secret_key(var_dir: Path) -> str:
    """Generate the embedded-mode secret key once into var/ and reuse it."""
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def strict_bool(name: str, *, default: bool) -> bool:
    """Read a boolean variable, refusing values that are neither true nor false."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{name}={raw!r} is not a boolean: use true/false, yes/no, 1/0 or on/off"
    )


def email_config(url: str) -> dict:
    """Django's EMAIL_* settings for an ``EMAIL_URL`` (empty: the console backend)."""
    url = url.strip() or "consolemail://"
    scheme = url.split("://", 1)[0]
    if "://" not in url or scheme not in environ.Env.EMAIL_SCHEMES:
        raise ConfigurationError(
            f"EMAIL_URL {url.split('@')[-1]!r} is not an email URL "
            f"(schemes: {', '.join(sorted(environ.Env.EMAIL_SCHEMES))})"
        )
    try:
        config = environ.Env.email_url_config(url)
    except ValueError as error:
        raise ConfigurationError(f"EMAIL_URL is not valid: {error}") from None
    return {key: value for key, value in config.items() if value not in (None, "")}


def strict_int(name: str, *, default: int, minimum: int | None = None) -> int:
    """Read a whole-number variable, refusing text and values below ``minimum``."""
    raw = env.str(name, default=None)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={raw!r} must be at least {minimum}")
    return value
