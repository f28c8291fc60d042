"""A database that is restarting or out of reach answers 503 with Retry-After, never a 500.

PostgreSQL restarts (upgrades, fail-over) close every connection: the requests in flight
then raise OperationalError/InterfaceError. That is not a bug in the request, so the
client gets "try again shortly" — JSON under /api/ and /healthz, a small page elsewhere.
The next request opens a fresh connection (CONN_HEALTH_CHECKS), so the portal recovers
without a restart.

Two entry points, because Django turns an exception into a 500 at the layer that raised
it: the middleware catches what views raise, and `server_error` (handler500) catches what
other middleware raised (sessions, authentication) on the way in or out.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sdrops is briefly unavailable</title></head>
<body><h1>sdrops is briefly unavailable</h1>
<p>The database is not answering right now (a restart or maintenance). Nothing was saved
from this request. Please try again in a few seconds.</p></body></html>
"""


def unavailable_response(request) -> HttpResponse:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/") or path == "/healthz" or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse(
            {"detail": "The database is temporarily unavailable; retry shortly.", "errors": {}}, status=503
        )
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.warning("Database unavailable during %s %s: %s", request.method, request.path, exception)
            return unavailable_response(request)
        return None


def server_error(request, template_name="500.html"):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return unavailable_response(request)
    return django_server_error(request, template_name=template_name)
