"""Stockroom settings, read from the environment (see README "Configuration").

Two modes:
- ``embedded`` (default): SQLite and a file-based Celery broker under ``var/``,
  a generated secret key; one command runs everything on a laptop.
- ``production``: ``SECRET_KEY``, ``DATABASE_URL`` and ``CELERY_BROKER_URL`` are
  required, and HTTPS hardening is on unless switched off explicitly.
"""

from pathlib import Path

from config.env import (
    ConfigurationError,
    broker_url_valid,
    database_config,
    embedded_secret_key,
    env,
    fail,
    strict_bool,
)

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    STOCKROOM_MODE = env.str("STOCKROOM_MODE", default="embedded").strip().lower()
    if STOCKROOM_MODE not in {"embedded", "production"}:
        raise ConfigurationError(
            f"STOCKROOM_MODE {STOCKROOM_MODE!r} is not one of: embedded, production"
        )
    PRODUCTION = STOCKROOM_MODE == "production"
    VAR_DIR = Path(env.str("STOCKROOM_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

    if PRODUCTION:
        for required in ("SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"):
            if not env.str(required, default=""):
                raise ConfigurationError(f"{required} must be set when STOCKROOM_MODE=production")
    SECRET_KEY = env.str("SECRET_KEY", default="") or embedded_secret_key(VAR_DIR)
    if PRODUCTION and len(SECRET_KEY) < 50:
        raise ConfigurationError("SECRET_KEY must be at least 50 random characters in production")

    DEBUG = strict_bool("DEBUG", default=False)
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"]
    )
    if PRODUCTION and not ALLOWED_HOSTS:
        raise ConfigurationError("ALLOWED_HOSTS must list the site's host names in production")
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

    DATABASES = {
        "default": database_config(
            env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'stockroom.sqlite3'}"),
            sqlite_timeout=env.int("SQLITE_BUSY_TIMEOUT", default=20),
        )
    }

    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    broker_url_valid(CELERY_BROKER_URL)

    # HTTPS hardening: on by default in production, off in the embedded (http://127.0.0.1) mode.
    SECURE_SSL_REDIRECT = strict_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
    SESSION_COOKIE_SECURE = strict_bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
    CSRF_COOKIE_SECURE = strict_bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = strict_bool(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION
    )
    SECURE_HSTS_PRELOAD = strict_bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
    if strict_bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ENVIRONMENT_LABEL = env.str(
        "STOCKROOM_ENVIRONMENT_LABEL", default="Production" if PRODUCTION else "Demo"
    )
    # Stock rules (see docs/stock.md)
    STOCK_DELETE_DEPLETED_DEFAULT = strict_bool("STOCK_DELETE_DEPLETED_DEFAULT", default=True)
    STOCK_ALLOW_OUT_OF_STOCK_TRANSFER = strict_bool(
        "STOCK_ALLOW_OUT_OF_STOCK_TRANSFER", default=False
    )
    # Build orders: reference pattern with one {ref} (checked by `manage.py check`, builds.E001);
    # whether a build can complete while child builds are still open
    BUILD_REFERENCE_PATTERN = env.str("BUILD_REFERENCE_PATTERN", default="BO-{ref:04d}")
    BUILDORDER_REQUIRE_CLOSED_CHILDS = strict_bool("BUILDORDER_REQUIRE_CLOSED_CHILDS", default=True)
    # Order reference patterns: Python format with one {ref} placeholder
    PURCHASE_ORDER_REFERENCE_PATTERN = env.str(
        "PURCHASE_ORDER_REFERENCE_PATTERN", default="PO-{ref:04d}"
    )
    SALES_ORDER_REFERENCE_PATTERN = env.str("SALES_ORDER_REFERENCE_PATTERN", default="SO-{ref:04d}")
    RETURN_ORDER_REFERENCE_PATTERN = env.str(
        "RETURN_ORDER_REFERENCE_PATTERN", default="RMA-{ref:04d}"
    )
    # Sales (see docs/sales.md): completing an order makes it Complete (true) or Shipped (false)
    SALES_ORDER_SHIP_COMPLETE = strict_bool("SALES_ORDER_SHIP_COMPLETE", default=False)
    # Purchasing (see docs/purchasing.md): complete a placed order once every line is received
    PURCHASE_ORDER_AUTO_COMPLETE = strict_bool("PURCHASE_ORDER_AUTO_COMPLETE", default=True)
except ConfigurationError as error:
    fail(str(error))
except ValueError as error:  # e.g. SQLITE_BUSY_TIMEOUT=soon
    fail(str(error))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # unfold and its contrib apps must precede django.contrib.admin (template overrides)
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "unfold.contrib.import_export",
    "unfold.contrib.guardian",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "guardian",
    "simple_history",
    "django_filters",
    "django_celery_results",
    "django_celery_beat",
    "admin_customisations",
    "inventory",
    "builds",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# Celery: results in the database; the embedded broker is a folder under var/.
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_CACHE_BACKEND = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_FOLDER = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (CELERY_BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)

# django-import-export
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# django-guardian: no anonymous user row; we never grant anonymous access.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-simple-history
SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
SIMPLE_HISTORY_REVERT_DISABLED = False

from config.unfold import UNFOLD  # noqa: E402, F401

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
