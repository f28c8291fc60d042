"""Development on localhost: safe defaults, no .env needed."""

from .base import *  # noqa: F401,F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)

# `make run`'s console: one line per email sent (apps.connect) and the URL and logins, not
# django-q2's two lines per task it runs ("processing…", "Processed…"), which buried them.
# Its warnings and errors still show; production (settings.production) keeps its INFO lines.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django-q": {"level": "WARNING"}}}  # noqa: F405
