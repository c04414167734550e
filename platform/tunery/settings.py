"""Tunery settings, read from the environment.

Two ways to run (docs/operator-guide.md):
- embedded default: no services at all — SQLite, a filesystem Celery broker, local storage,
  e-mail printed to the console;
- production (TUNERY_ENV=production): DATABASE_URL (PostgreSQL), REDIS_URL, S3 storage when
  AWS_STORAGE_BUCKET_NAME is set, SMTP via EMAIL_HOST, and HTTPS-only cookies with HSTS.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

from tunery import process_role
from tunery.env import env_bool, env_int, env_list, env_secret

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository root
VAR_DIR = Path(os.environ.get("TUNERY_VAR_DIR", BASE_DIR / "var"))

PRODUCTION = os.environ.get("TUNERY_ENV", "embedded") == "production"
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", required=PRODUCTION, var_dir=VAR_DIR)
# Pepper for API-key hashes: its own secret so that rotating SECRET_KEY keeps keys valid.
API_KEY_PEPPER = env_secret("TUNERY_API_KEY_PEPPER", required=PRODUCTION, var_dir=VAR_DIR)

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.environ.get("TUNERY_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "django_prometheus",
    "tunery.api",
    "tunery.orgs",
    "tunery.apikeys",
    "tunery.ops",
    "tunery.files",
    "tunery.jobs",
    "tunery.inference",
    "tunery.evaluations",
    "tunery.billing",
    "tunery.dashboard",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tunery.ops.logging.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tunery.orgs.middleware.ActiveOrganizationMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "tunery.urls"
ASGI_APPLICATION = "tunery.asgi.application"
WSGI_APPLICATION = "tunery.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tunery.orgs.context_processors.organizations",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.config(conn_max_age=60, conn_health_checks=True)}
    if env_bool("TUNERY_DB_POOL", process_role.web):
        # The web process (tunery/asgi.py marks it; TUNERY_DB_POOL=0 or 1 overrides). Under ASGI
        # each request's sync code runs in a thread of its own, so a persistent connection
        # (CONN_MAX_AGE) is never reused: every request paid a new PostgreSQL connection.
        # psycopg's pool keeps them across requests and checks each one before handing it out
        # (CONN_HEALTH_CHECKS), so once a restarted server is back no request fails on a dead
        # connection. Not in Celery's forked workers: a pool's
        # threads do not survive fork.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": env_int("TUNERY_DB_POOL_SIZE", 20),
            # While the server is down a request waits this long for a connection, then answers
            # 503 service_unavailable (tunery.api.errors), instead of hanging.
            "timeout": 5,
            # The pool retries a failed connection with a doubling delay and no cap of its own
            # (a 17 s outage took 30 s to recover): give each attempt up after 10 s, so the next
            # request starts a fresh one at once (docs/operations.md, "Faults").
            "reconnect_timeout": 10,
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "tunery.sqlite3",
            # WAL lets the web process read while a worker writes.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
            # A file, not memory, so that worker processes started by the tests can share it.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker ------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("TUNERY_CACHE_PREFIX", "tunery"),
            # One pool per process, not one per request (tunery/redis_pool.py says why).
            "OPTIONS": {"pool_class": "tunery.redis_pool.SharedConnectionPool"},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# --- storage --------------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("TUNERY_MEDIA_ROOT", VAR_DIR / "media"))
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm (package.json); only their dist folders are served.
# Embedded: serve straight from the source folders; production serves collectstatic's output.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]

# --- request limits -------------------------------------------------------------------
# JSON and form bodies; file uploads stream to disk and have their own limit (Datasets).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TUNERY_MAX_BODY_BYTES", 2 * 1024 * 1024)
TUNERY_MAX_UPLOAD_BYTES = env_int("TUNERY_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
FILE_UPLOAD_TEMP_DIR = os.environ.get("TUNERY_UPLOAD_TEMP_DIR") or None

# --- e-mail ---------------------------------------------------------------------------
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Tunery <no-reply@tunery.local>")

# --- accounts (django-allauth) --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("TUNERY_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up says plainly that an address is taken (a clear error beats a silent e-mail here).
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tunery.apikeys.authentication.ApiKeyAuthentication",
        "tunery.apikeys.authentication.SessionMemberAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tunery.api.permissions.HasScope"],
    "DEFAULT_SCHEMA_CLASS": "tunery.api.schema.TuneryAutoSchema",
    "EXCEPTION_HANDLER": "tunery.api.errors.openai_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "tunery.api.negotiation.AlwaysJSON",
    # Size-limited, and refuses deep nesting, NaN/Infinity and lone surrogates with a 400.
    "DEFAULT_PARSER_CLASSES": ["tunery.api.parsers.LimitedJSONParser"],
    # OPTIONS describes the view without serializer_class (most views read their body by hand).
    "DEFAULT_METADATA_CLASS": "tunery.api.metadata.ViewMetadata",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tunery API",
    "DESCRIPTION": "OpenAI-compatible fine-tuning and inference, plus Tunery's own endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page are public and the same for everyone: no API authentication
    # (which would also put a Principal where the page's context processors expect a User).
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_IGNORE_RESULT = True  # state lives in the database, not in a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("TUNERY_CELERY_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "reap-stalled-jobs": {"task": "tunery.jobs.tasks.reap_stalled_jobs", "schedule": 30.0},
    "charge-inference-usage": {"task": "tunery.inference.tasks.charge_inference_usage", "schedule": 60.0},
    "roll-up-inference-usage": {"task": "tunery.inference.tasks.roll_up_inference_usage", "schedule": 600.0},
    "reap-stalled-evaluations": {"task": "tunery.evaluations.tasks.reap_stalled_evaluations", "schedule": 30.0},
}
if os.environ.get("TUNERY_QUEUE_PREFIX"):  # several Tunerys (or test runs) on one Redis
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = os.environ["TUNERY_QUEUE_PREFIX"]

# --- fine-tuning ----------------------------------------------------------------------
# Checkpoints and adapters; shared storage when GPU workers and the engine are on several hosts.
TUNERY_JOBS_DIR = Path(os.environ.get("TUNERY_JOBS_DIR", VAR_DIR / "jobs"))
# A running job whose worker has not written a heartbeat for this long is re-queued.
TUNERY_HEARTBEAT_TIMEOUT = env_int("TUNERY_HEARTBEAT_TIMEOUT", 120)
TUNERY_MAX_ATTEMPTS = env_int("TUNERY_MAX_ATTEMPTS", 3)

# --- inference ------------------------------------------------------------------------
# Tunery's engine (python -m workers.engine) or a vLLM server started with --enable-lora:
# both speak the OpenAI protocol and vLLM's /v1/load_lora_adapter.
TUNERY_ENGINE_URL = os.environ.get("TUNERY_ENGINE_URL", "http://127.0.0.1:8001").rstrip("/")
TUNERY_ENGINE_TIMEOUT = env_int("TUNERY_ENGINE_TIMEOUT", 300)
# Requests per minute, per API key and per organization (429 with Retry-After beyond).
TUNERY_RATE_LIMIT_PER_KEY = env_int("TUNERY_RATE_LIMIT_PER_KEY", 600)
TUNERY_RATE_LIMIT_PER_ORG = env_int("TUNERY_RATE_LIMIT_PER_ORG", 1200)

# --- billing (docs/billing.md) --------------------------------------------------------
# Without a secret key billing runs on the ledger alone ("ledger-only mode"): new
# organizations get the trial credit, and owners can add credit without a payment only where
# the operator allows it (TUNERY_SELF_SERVICE_CREDITS: on in the embedded demo, off in
# production, where staff add credit in the admin).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # empty: api.stripe.com; tests point it at localstripe
# Stripe.js must be loaded from Stripe (card data never touches our servers); tests use localstripe's.
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
TUNERY_TRIAL_CREDIT = os.environ.get(
    "TUNERY_TRIAL_CREDIT", "0" if STRIPE_SECRET_KEY else "10.00"
)  # USD, a string: never a float
TUNERY_SELF_SERVICE_CREDITS = env_bool("TUNERY_SELF_SERVICE_CREDITS", not PRODUCTION)
# Used for duration estimates until a base model has finished jobs to measure.
TUNERY_DEFAULT_TRAINING_TOKENS_PER_SECOND = env_int("TUNERY_DEFAULT_TRAINING_TOKENS_PER_SECOND", 150)

# --- security (production) ------------------------------------------------------------
# Content-Security-Policy (django-csp) on every page: scripts, styles, images and requests
# from our own origin only, as every asset is self-hosted. The progress bars' widths are style
# attributes (style-src-attr); the billing page adds Stripe.js's origin (billing/views.py) and
# /api/docs Swagger UI's inline stylesheet (urls.py). docs/operations.md#security.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# /metrics answers `Authorization: Bearer <this>` (the Prometheus scraper) or signed-in staff;
# anyone else gets a 404 (docs/operations.md).
TUNERY_METRICS_TOKEN = os.environ.get("TUNERY_METRICS_TOKEN", "")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

# --- i18n, time -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    # 403s and other client errors: one warning line, no traceback (tunery/ops/logging.py).
    "filters": {"client_errors_without_traceback": {"()": "tunery.ops.logging.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["client_errors_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("TUNERY_LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO: one line per gateway call to the engine, and its cost.
    "loggers": {"django.server": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
