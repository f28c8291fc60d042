"""Tests: real PostgreSQL (its own test database), tasks run in-process, mail in memory."""

from sdrops import embedded_db

# Importing these settings does not start the embedded PostgreSQL: the root conftest starts
# it in the session's database setup, so collecting tests (or running tests that need no
# database) never waits for it.
embedded_db.defer_start()

from .base import *  # noqa: E402,F401,F403
from .base import Q_CLUSTER  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Tests log in with client.login(), which passes no request; the lockout test turns it on.
AXES_ENABLED = False
