"""Production: everything from the environment, `manage.py check --deploy` clean."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import MIDDLEWARE, env_bool

DEBUG = False


def _secret_key_problem(key: str) -> str | None:
    """Why `key` must not sign sessions, password resets and CSRF tokens in production.
    The same thresholds as Django's security.W009, but refusing to start instead of warning."""
    if not key:
        return "SECRET_KEY is not set."
    if key.startswith(("dev-only", "django-insecure")):
        return "SECRET_KEY is the development default."
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY is {len(key)} characters long; at least {SECRET_KEY_MIN_LENGTH} are needed."
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY has only {len(set(key))} different characters; at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} are needed."
    return None


SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
_problem = _secret_key_problem(os.environ.get("SECRET_KEY", ""))
if _problem:
    raise ImproperlyConfigured(
        f"{_problem} Set SECRET_KEY to a long random value in production, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
SECRET_KEY = os.environ["SECRET_KEY"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# whitenoise serves the collected static files (collectstatic runs in `make serve`).
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "sdrops.storage.StaticFilesStorage"},
}
# Behind a load balancer the client address comes from X-Forwarded-For (django-axes).
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "1"))
