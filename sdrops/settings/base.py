"""Settings shared by every environment; everything that differs comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-never-used-in-production")
# Keys that encrypt stored secrets (chat webhook URLs; sdrops/secrets.py): comma-separated Fernet
# keys, the first encrypts, all decrypt. Unset: one key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

DJANGO_APPS = [
    "sdrops.apps.SdropsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.forms",
]
THIRD_PARTY_APPS = [
    "django_q",
    "import_export",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "phonenumber_field",
    "axes",
    "pgtrigger",
    "pghistory",
]
LOCAL_APPS = [
    "apps.people",
    "apps.leads",
    "apps.accounts",
    "apps.icps",
    "apps.routing",
    "apps.markets",
    "apps.cadences",
    "apps.meetings",
    "apps.reporting",
    "apps.integrations",
    "apps.connect",
    "apps.campaigns",
    "apps.workspace",
    # The project's own app (after the domain apps): schedule registry sync, settings base,
    # project-level commands.
    "sdrops.apps.SdropsConfig",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# django-pghistory's triggers (sdrops/models.py) are installed from the models after every
# migrate, not written into each app's migrations: the event tables live in one app
# (sdrops), the tracked models stay free to move between apps, and the installed triggers
# always match the current fields (pgtrigger re-installs a trigger whose definition changed).
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Each signed-in user's pages, forms and filters run in their own time zone (apps/workspace).
    "apps.workspace.middleware.ViewerTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every page (django-csp; directives below).
    "csp.middleware.CSPMiddleware",
    # A database restart mid-request answers 503 + Retry-After, not 500 (sdrops/db_unavailable.py).
    "sdrops.db_unavailable.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
    # Each request its own configuration-version context (sdrops/config_cache.py).
    "sdrops.config_cache.ConfigVersionMiddleware",
    # Each read-only request a memo of managers' scopes (sdrops/access.py scoped_rep_ids).
    "sdrops.access.ScopeMemoMiddleware",
]

# Login throttling against password guessing (django-axes): 5 failures for one user name
# from one address lock that pair out for 15 minutes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permission sets cached per process (sdrops/auth_backends.py); logs nobody in.
    "sdrops.auth_backends.CachedPermissionsBackend",
    "django.contrib.auth.backends.ModelBackend",
    # OpenID Connect sign-on; inert until OIDC_RP_CLIENT_ID is set (see the block below).
    "apps.connect.sso.SsoBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content-Security-Policy: scripts only from our own static files (Chart.js is vendored;
# no inline scripts or on*= handlers in our templates — tests/test_csp.py walks the admin
# to keep it so). Inline style attributes stay allowed: the Django admin writes some.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "sdrops.urls"
WSGI_APPLICATION = "sdrops.wsgi.application"
ASGI_APPLICATION = "sdrops.asgi.application"

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
            ],
        },
    }
]

# No DATABASE_URL: the embedded PostgreSQL under var/ (see sdrops/embedded_db.py).
if os.environ.get("DATABASE_URL"):
    _database_url = os.environ["DATABASE_URL"]
else:
    from sdrops.embedded_db import database_url

    _database_url = database_url()
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Dates and times the admin renders itself (changelists, read-only fields) name their zone:
# "2026-12-01 15:00 EST" in the viewer's zone, the same words the `when` filter writes.
# Contact phone numbers typed without a country code are read as this region's (ISO code).
PHONENUMBER_DEFAULT_REGION = os.environ.get("PHONENUMBER_DEFAULT_REGION", "US")
PHONENUMBER_DB_FORMAT = "E164"
FORMAT_MODULE_PATH = ["sdrops.formats"]
# Widget templates come from TEMPLATES (templates/admin/widgets/ names the zone next to
# every date-time input).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

LOGIN_URL = "admin:login"

# Email: SMTP when EMAIL_HOST is set, otherwise EMAIL_BACKEND (console by default).
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sdrops <sdrops@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

# A shared cache: django-q2's cluster publishes its status there for the admin's
# "Background jobs" page, so it must not be per-process memory.
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "sdrops_cache"}}

# django-q2: see shared/DEPENDENCIES.md. Delivery is at-least-once, so every task is
# idempotent; timeout < retry so a slow task is not handed out twice while it runs;
# catch_up=False so a cluster that was down does not replay missed emails.
Q_CLUSTER = {
    "name": "sdrops",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 600,
    "retry": 720,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "queue_limit": 50,
    "label": "Background jobs",
}
if os.environ.get("REDIS_URL"):
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
else:
    Q_CLUSTER["orm"] = "default"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Per-integration tokens (hashed, scoped); see apps/integrations. First, so an
        # unauthenticated request gets 401 with a WWW-Authenticate header.
        "sdrops.api.authentication.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # A size-capped JSONParser: DRF reads the body stream directly, past Django's
    # DATA_UPLOAD_MAX_MEMORY_SIZE check.
    "DEFAULT_PARSER_CLASSES": ["sdrops.api.support.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sdrops.api.support.IdCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["sdrops.api.throttling.IntegrationRateThrottle"],
    "EXCEPTION_HANDLER": "sdrops.api.support.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "sdrops API",
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI / Redoc assets from the drf-spectacular-sidecar package's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Choice sets that share a field name get their own component names.
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "apps.accounts.models.Account.Status",
        "ReturnStatusEnum": "apps.routing.models.ReturnRequest.Status",
        "RoutingOutcomeEnum": "apps.routing.models.RoutingDecision.Outcome",
        "ReturnOutcomeEnum": "apps.routing.models.ReturnOutcome",
        "LeadDispositionEnum": "apps.leads.models.LeadCycle.Disposition",
        "DispositionReasonKindEnum": "apps.leads.models.DispositionReason.Disposition",
        "MeetingKindEnum": "apps.meetings.models.Meeting.Kind",
        "SignalTypeKindEnum": "apps.icps.models.SignalType.Kind",
    },
}
# Largest request body Django (and the API's JSON parser) will read: 2.5 MB, room for a
# bulk of 1,000 activities.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
# API rate limits (an integration's own rate wins) and outbound webhook delivery.
API_DEFAULT_INTEGRATION_RATE = os.environ.get("API_DEFAULT_INTEGRATION_RATE", "600/min")
API_DEFAULT_USER_RATE = os.environ.get("API_DEFAULT_USER_RATE", "1200/min")
# Where rate-limit counters live (sdrops/api/throttling.py): "database" — one statement per
# request on an UNLOGGED table, shared by every worker — unless Redis is configured ("cache").
API_THROTTLE_STORE = os.environ.get("API_THROTTLE_STORE", "cache" if os.environ.get("REDIS_URL") else "database")
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_BACKOFF_BASE_SECONDS = float(os.environ.get("WEBHOOK_BACKOFF_BASE_SECONDS", "30"))
# How long the nightly clean-up keeps delivered webhook events (with their attempts) and the
# idempotency records of CRM deliveries; pending events and dead letters are always kept.
WEBHOOK_HISTORY_DAYS = int(os.environ.get("WEBHOOK_HISTORY_DAYS", "30"))
INBOUND_DELIVERY_HISTORY_DAYS = int(os.environ.get("INBOUND_DELIVERY_HISTORY_DAYS", "30"))
# Webhooks are signed with Standard Webhooks (id + timestamp + body); the old body-only
# X-Sdrops-Signature is still accepted from the CRM and sent to endpoints until this day
# (inclusive, UTC). Empty: Standard Webhooks only. See apps/integrations/signing.py.
WEBHOOK_LEGACY_SIGNATURE_UNTIL = os.environ.get("WEBHOOK_LEGACY_SIGNATURE_UNTIL", "2027-03-31")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

# What the demo prints and the docs quote; never used outside seed_demo.
DEMO_PASSWORD = "sdrops-demo"

# Absolute links in emails (the morning "clean your room" email, SLA escalations).
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://localhost:8000")

# OpenID Connect sign-on beside passwords (apps/connect/sso.py, docs/connections.md). Off while
# OIDC_RP_CLIENT_ID is empty. The client secret comes from the environment only.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_TEAM_CLAIM = os.environ.get("OIDC_TEAM_CLAIM", "")
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_LEEWAY_SECONDS = float(os.environ.get("OIDC_LEEWAY_SECONDS", "60"))
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_CALLBACK_CLASS = "apps.connect.sso.SsoCallbackView"
OIDC_AUTHENTICATE_CLASS = "apps.connect.sso.SsoStartView"
LOGIN_REDIRECT_URL = "/admin/"
