"""Outcry settings: one module, configured only by environment variables.

Nothing set  -> *embedded* mode: SQLite under var/, in-process channel layer, Celery tasks run in
                a thread pool inside the server process, media on local disk, console email.
DATABASE_URL / REDIS_URL / S3 set -> *production* mode: PostgreSQL, Redis (Celery broker and
                channels-redis), S3 media, SMTP email, separate worker and beat processes.

deploy/env.example lists every variable read here with its default.
"""

import ipaddress
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from outcry.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OUTCRY_VAR_DIR", str(BASE_DIR / "var")))

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
OUTCRY_MODE = env_str("OUTCRY_MODE", "production" if (DATABASE_URL or REDIS_URL) else "embedded")
if OUTCRY_MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured(f"OUTCRY_MODE={OUTCRY_MODE!r}: use 'embedded' or 'production'")
EMBEDDED = OUTCRY_MODE == "embedded"

_DEFAULT_SECRET_KEY = "outcry-embedded-insecure-secret-key-change-me"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEFAULT_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", default=EMBEDDED)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "outcry",
    "sites",
    "detection",
    "alerts",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "outcry.actor.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "outcry.urls"
WSGI_APPLICATION = "outcry.wsgi.application"
ASGI_APPLICATION = "outcry.asgi.application"

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

# --- Database -------------------------------------------------------------------------------------
# The embedded server writes from request threads and task threads at once: writers queue
# (IMMEDIATE, up to 20 s) instead of failing, and in WAL mode the console's reads neither wait for a
# write nor hold one up.
SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its directory
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "outcry.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "outcry.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- Static and media files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

AWS_STORAGE_BUCKET_NAME = env_str("S3_BUCKET")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env_str("S3_REGION") or None
    AWS_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY") or None
    AWS_DEFAULT_ACL = None  # private objects; served through presigned URLs
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env_int("S3_URL_EXPIRE_S", 600)
    AWS_S3_FILE_OVERWRITE = False
    _media_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Channels -------------------------------------------------------------------------------------
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5-s socket timeout by default, which aborts the layer's
            # blocking 5-s BZPOPMIN and tears every websocket down (redis/redis-py#4091); and it
            # caps a pool at 100 connections, which ~100 sensors connecting at once exceed
            # (MaxConnectionsError, the websocket closes with 1011).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Cache ----------------------------------------------------------------------------------------
# The brakes on password guessing (sign-in page, token login) count failures in the cache. In
# production the web processes share Redis so that a count is one count whichever process answers;
# the key prefix keeps cache keys apart from the channel layer's and Celery's in the same database.
CACHE_URL = env_str("CACHE_URL", REDIS_URL)
CACHE_KEY_PREFIX = "outcry-cache"
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# --- Celery ---------------------------------------------------------------------------------------
# Embedded mode runs tasks in a thread pool of the server process (outcry.tasking), never inline
# in the request: an upload returns before its analysis finishes. OUTCRY_TASK_RUNNER=inline runs
# them synchronously after commit (tests); =celery sends them to the broker.
OUTCRY_TASK_RUNNER = env_str("OUTCRY_TASK_RUNNER", "celery" if REDIS_URL else "thread")
if OUTCRY_TASK_RUNNER not in {"celery", "thread", "inline"}:
    raise ImproperlyConfigured("OUTCRY_TASK_RUNNER must be celery, thread or inline")
OUTCRY_TASK_THREADS = env_int("OUTCRY_TASK_THREADS", 2)
# Each server process loads the detection model as it starts (outcry.signals.server_started), so
# the first upload or stream after a restart is not seconds late. Tests turn it off.
OUTCRY_WARM_UP_AT_START = env_bool("OUTCRY_WARM_UP_AT_START", True)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
# Redelivery of unacknowledged tasks after a worker dies; must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900)}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}  # apps add their periodic tasks in AppConfig.ready()

# --- Webhooks -------------------------------------------------------------------------------------
# Webhooks go to public addresses only; these networks (CIDR, comma-separated) are allowed besides,
# for on-premises receivers. Loopback, private and link-local addresses are refused otherwise (SSRF).
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS")
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {_error}") from _error

# --- Email ----------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Outcry <outcry@localhost>")

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "outcry.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "sites.authentication.SensorKeyRefusedHere",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "outcry.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "outcry.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "outcry.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "token_login": "10/min",
        # per sensor or person (detection.api.throttles); a sensor sending 10-s clips needs 6/min
        "recording_upload": env_str("UPLOAD_RATE_LIMIT", "60/min"),
    },
    # Throttles key on REMOTE_ADDR, which daphne --proxy-headers sets from the proxy's header; with
    # the default (None) DRF would key on the raw X-Forwarded-For, which any client can vary.
    "NUM_PROXIES": 0,
}
if not re.fullmatch(r"\d+/(s|sec|m|min|h|hour|d|day)", REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["recording_upload"]):
    raise ImproperlyConfigured("UPLOAD_RATE_LIMIT must look like 60/min (a number, then /s, /min, /hour or /day).")
SPECTACULAR_SETTINGS = {
    "TITLE": "Outcry API",
    "DESCRIPTION": "Scream detection and live incident alerting across sites.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schemes clients can use; SensorKeyRefusedHere only explains a refusal.
    "AUTHENTICATION_WHITELIST": [
        "outcry.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "sites.authentication.SensorKeyAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tag operations by resource (sites, sensors, …), not "v1"
    # Several models share field names ("status", "kind"); name their enums after the choice classes.
    "ENUM_NAME_OVERRIDES": {
        "SiteStatusEnum": "sites.models.SiteStatus",
        "SensorStatusEnum": "sites.models.SensorStatus",
        "SensorKindEnum": "sites.models.SensorKind",
        "IncidentStatusEnum": "alerts.models.IncidentStatus",
        "IncidentPriorityEnum": "alerts.models.IncidentPriority",
        "RecordingStatusEnum": "detection.models.RecordingStatus",
    },
}

# --- Outcry domain settings -------------------------------------------------------------------------
SENSOR_OFFLINE_AFTER_S = env_int("SENSOR_OFFLINE_AFTER_S", 30)
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
UPLOAD_MAX_DURATION_S = env_float("UPLOAD_MAX_DURATION_S", 3600.0)
# Days audio is kept unless a site sets its own (detection.retention); open incidents and
# confirmed emergencies keep theirs beyond it.
AUDIO_RETENTION_DAYS = env_int("AUDIO_RETENTION_DAYS", 30)
if not 1 <= AUDIO_RETENTION_DAYS <= 3650:
    raise ImproperlyConfigured("AUDIO_RETENTION_DAYS must be between 1 and 3650 days")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DETECTION_MODEL_PATH = env_str("DETECTION_MODEL_PATH", str(BASE_DIR / "detection" / "weights" / "scream_resnet34.onnx"))
DETECTION_THRESHOLD = env_float("DETECTION_THRESHOLD", 0.0)  # 0 = use the model card's threshold
DETECTION_INTRA_OP_THREADS = env_int("DETECTION_INTRA_OP_THREADS", 1)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the console's fetch() reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not EMBEDDED:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz and /readyz are probed over plain HTTP from inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    if SECRET_KEY == _DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "Production mode needs DJANGO_SECRET_KEY set to a random value of at least 50 characters."
        )
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        raise ImproperlyConfigured("Production mode refuses SQLite: set DATABASE_URL to a PostgreSQL database.")
    if not REDIS_URL:
        raise ImproperlyConfigured("Production mode needs REDIS_URL (Celery broker and channel layer).")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Embedded mode runs the periodic tasks every few seconds in the server process: one
        # "succeeded" line each would bury the server's output (failures are logged as errors).
        **({"celery.app.trace": {"level": "WARNING"}} if EMBEDDED else {}),
    },
}
