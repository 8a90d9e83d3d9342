"""Stockroom settings, read from the environment (see README "Configuration").

Two modes:
- ``embedded`` (default): SQLite and a file-based Celery broker under ``var/``,
  a generated secret key; one command runs everything on a laptop.
- ``production``: ``SECRET_KEY``, ``DATABASE_URL`` and ``CELERY_BROKER_URL`` are
  required, and HTTPS hardening is on unless switched off explicitly.
"""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csp.constants import NONE, SELF, UNSAFE_EVAL, UNSAFE_INLINE

from config.env import (
    ConfigurationError,
    broker_url_valid,
    database_config,
    email_config,
    embedded_secret_key,
    env,
    fail,
    strict_bool,
    strict_int,
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
    if PRODUCTION and DEBUG:
        raise ConfigurationError(
            "DEBUG must be off when STOCKROOM_MODE=production (it shows settings and code to anyone)"
        )
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"]
    )
    if PRODUCTION and not ALLOWED_HOSTS:
        raise ConfigurationError("ALLOWED_HOSTS must list the site's host names in production")
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

    DATABASES = {
        "default": database_config(
            env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'stockroom.sqlite3'}"),
            sqlite_timeout=strict_int("SQLITE_BUSY_TIMEOUT", default=20, minimum=0),
        )
    }

    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    broker_url_valid(CELERY_BROKER_URL)

    # HTTPS hardening: on by default in production, off in the embedded (http://127.0.0.1) mode.
    SECURE_SSL_REDIRECT = strict_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
    SESSION_COOKIE_SECURE = strict_bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
    CSRF_COOKIE_SECURE = strict_bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
    SECURE_HSTS_SECONDS = strict_int(
        "SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0, minimum=0
    )
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
    # Stock ownership (inventory/permissions.py) and responsible parties (inventory/responsibility.py)
    STOCK_OWNERSHIP_CONTROL = strict_bool("STOCK_OWNERSHIP_CONTROL", default=False)
    ORDERS_RESPONSIBLE_ONLY = strict_bool("ORDERS_RESPONSIBLE_ONLY", default=False)
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
    # Login throttling (django-axes, see docs/security.md "Login lockout")
    AXES_FAILURE_LIMIT = strict_int("AXES_FAILURE_LIMIT", default=5, minimum=1)
    _cooloff_minutes = strict_int("AXES_COOLOFF_MINUTES", default=15, minimum=0)
    # 0 minutes: locked until an administrator resets the attempts
    AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes) if _cooloff_minutes else None
    # Reverse proxies in front of the web process that append to X-Forwarded-For
    TRUSTED_PROXY_COUNT = strict_int("TRUSTED_PROXY_COUNT", default=0, minimum=0)
    # Bulk jobs (see docs/bulk-actions.md)
    BULK_JOB_THRESHOLD = strict_int("BULK_JOB_THRESHOLD", default=200, minimum=0)
    BULK_JOB_CHUNK_SIZE = strict_int("BULK_JOB_CHUNK_SIZE", default=200, minimum=1)
    BULK_JOB_STALE_SECONDS = strict_int("BULK_JOB_STALE_SECONDS", default=300, minimum=10)
    BULK_JOB_MAX_ATTEMPTS = strict_int("BULK_JOB_MAX_ATTEMPTS", default=5, minimum=1)
    BULK_JOB_FILE_DAYS = strict_int("BULK_JOB_FILE_DAYS", default=7, minimum=1)
    # Stock as of a date: questions over more stock history rows run as a job (docs/history.md)
    STOCK_AS_OF_JOB_ROWS = strict_int("STOCK_AS_OF_JOB_ROWS", default=100_000, minimum=0)
    # Spreadsheet imports (see docs/importing.md "File formats and limits")
    IMPORT_MAX_FILE_MB = strict_int("IMPORT_MAX_FILE_MB", default=20, minimum=1)
    IMPORT_MAX_ROWS = strict_int("IMPORT_MAX_ROWS", default=200000, minimum=1)
    IMPORT_MAX_COLUMNS = strict_int("IMPORT_MAX_COLUMNS", default=100, minimum=1)
    IMPORT_MAX_XLSX_MB = strict_int("IMPORT_MAX_XLSX_MB", default=200, minimum=1)
    IMPORT_JOB_BYTES = strict_int("IMPORT_JOB_BYTES", default=1_000_000, minimum=0)
    IMPORT_CHUNK_ROWS = strict_int("IMPORT_CHUNK_ROWS", default=1000, minimum=1)
    # Scheduled checks and notifications (docs/notifications.md)
    STOCK_EXPIRY_WARNING_DAYS = strict_int("STOCK_EXPIRY_WARNING_DAYS", default=30, minimum=0)
    TASK_RESULT_RETENTION_DAYS = strict_int("TASK_RESULT_RETENTION_DAYS", default=30, minimum=1)
    # Email: django-environ's email URL (smtp://user:password@host:587, smtp+tls://...,
    # consolemail://); unset, messages are written to the worker's output
    globals().update(email_config(env.str("EMAIL_URL", default="")))
    DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="stockroom@localhost")
    SERVER_EMAIL = DEFAULT_FROM_EMAIL
    # Where people reach the site, for links in emails ("" = relative links)
    STOCKROOM_BASE_URL = env.str("STOCKROOM_BASE_URL", default="").rstrip("/")
    # Redis redelivers an unacknowledged message after this many seconds: longer than any chunk
    CELERY_VISIBILITY_TIMEOUT = strict_int("CELERY_VISIBILITY_TIMEOUT", default=3600, minimum=60)
    TIME_ZONE = env.str("TIME_ZONE", default="UTC")
    try:
        ZoneInfo(TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone") from None
    LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").strip().upper()
    if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigurationError(
            f"LOG_LEVEL {LOG_LEVEL!r} is not one of: DEBUG, INFO, WARNING, ERROR, CRITICAL"
        )
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
    "axes",
    "csp",
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
    "csp.middleware.CSPMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    # last, as django-axes asks: turns a locked-out login into the lockout page
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # first: refuses locked-out username + IP combinations before any password is checked
    "config.login_throttle.LoginThrottleBackend",
    # Django's ModelBackend, loading request.user with the inbox's unread count (no extra
    # query per page for the sidebar badge: admin_customisations/notifications/auth.py)
    "admin_customisations.notifications.auth.StockroomModelBackend",
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
# After login (also when ``next`` is missing or points off-site) go to the admin index.
LOGIN_REDIRECT_URL = "admin:index"

# django-axes (docs/security.md "Login lockout"): AXES_FAILURE_LIMIT failures for one
# username from one IP address lock that combination for AXES_COOLOFF_TIME; a successful
# login resets the count; administrators see and delete attempts in the admin.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "config.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_throttle.client_ip"
AXES_HTTP_RESPONSE_CODE = 429

# Content-Security-Policy (django-csp 4; docs/security.md "Security headers / CSP"). unfold
# runs Alpine.js's standard build, which evaluates x-data/x-on expressions with
# ``new AsyncFunction`` ('unsafe-eval'), and ships inline <style> and style attributes;
# django-celery-beat's task form has an inline <script> ('unsafe-inline'). Everything else is
# limited to this origin: no third-party scripts, styles, fonts, frames, or form targets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_INLINE, UNSAFE_EVAL],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features the admin never uses are switched off for every page.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
}

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
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}

# django-import-export: only its fields and widgets are used (the cell layer of
# admin_customisations/importing); its admin views and their IMPORT_EXPORT_* settings are not.

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
    "filters": {
        # an ordinary "403 Forbidden (Permission denied)" is logged without a traceback
        "permission_denied_without_traceback": {
            "()": "config.security.PermissionDeniedWithoutTraceback"
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["permission_denied_without_traceback"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
