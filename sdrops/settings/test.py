"""Tests: real PostgreSQL (its own test database), tasks run in-process, mail in memory."""

from .base import *  # noqa: F401,F403
from .base import Q_CLUSTER

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Tests log in with client.login(), which passes no request; the lockout test turns it on.
AXES_ENABLED = False
