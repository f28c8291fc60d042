"""Rate limits per integration (its own rate, or API_DEFAULT_INTEGRATION_RATE) and per
logged-in user (API_DEFAULT_USER_RATE).

Where the counters live (API_THROTTLE_STORE):
- "database" (the default without REDIS_URL, i.e. the embedded PostgreSQL): one row per
  subject in the UNLOGGED table sdrops_apithrottle, checked and advanced by one statement
  (GCRA, the "generic cell rate algorithm": the row holds the time the subject's budget is
  used up to; a request is let through while that time stays within one period of now).
  Why this and not the alternatives: Django's database cache costs four statements per
  request (read, cull COUNT(*), read again, write) and per-process memory would multiply the
  limit by the number of gunicorn workers. The same statement stamps the integration's
  `last_used_at` when authentication found it due (at most once a minute), so that stamp
  costs no statement of its own either.
- "cache" (the default with REDIS_URL): DRF's sliding-window log in the shared cache, i.e.
  Redis — no SQL at all; authentication then writes `last_used_at` itself, once a minute.

GCRA lets a subject burst up to its whole rate and then one request per period/rate; DRF's
log lets the burst and then waits for the oldest request to age out. Both hold "at most N
in any period" within one request.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from apps.integrations.models import Integration


def database_store() -> bool:
    return getattr(settings, "API_THROTTLE_STORE", "database") == "database"


class IntegrationRateThrottle(SimpleRateThrottle):
    scope = "integration"

    def allow_request(self, request, view):
        integration = request.auth if isinstance(request.auth, Integration) else None
        if integration is not None:
            self.rate = integration.throttle_rate or getattr(settings, "API_DEFAULT_INTEGRATION_RATE", "600/min")
            self.subject = f"integration “{integration.name}”"
        else:
            self.rate = getattr(settings, "API_DEFAULT_USER_RATE", "1200/min")
            self.subject = "your login"
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if not database_store():
            return super().allow_request(request, view)
        return self._allow_in_database(request, view, integration)

    def _allow_in_database(self, request, view, integration) -> bool:
        key = self.get_cache_key(request, view)
        now = timezone.now()
        period = dt.timedelta(seconds=self.duration)
        interval = period / self.num_requests
        stamp = integration.pk if integration is not None and getattr(request, "sdrops_last_used_due", False) else None
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH used AS (
                    UPDATE integrations_integration SET last_used_at = %(now)s WHERE id = %(stamp)s
                )
                INSERT INTO sdrops_apithrottle AS t (key, tat) VALUES (%(key)s, %(now)s + %(interval)s)
                -- A theoretical arrival time beyond now + one period cannot come from this
                -- clock (a clock set back, another server's skew): start the subject afresh.
                ON CONFLICT (key) DO UPDATE SET tat = (CASE WHEN t.tat > %(now)s + %(period)s THEN %(now)s
                                                            ELSE GREATEST(t.tat, %(now)s) END) + %(interval)s
                 WHERE (CASE WHEN t.tat > %(now)s + %(period)s THEN %(now)s
                             ELSE GREATEST(t.tat, %(now)s) END) + %(interval)s <= %(now)s + %(period)s
                RETURNING tat
                """,
                {"now": now, "stamp": stamp, "key": key, "interval": interval, "period": period},
            )
            if cursor.fetchone() is not None:
                return True
            # Refused (rare): one more statement for how long to wait.
            cursor.execute("SELECT tat FROM sdrops_apithrottle WHERE key = %s", [key])
            (tat,) = cursor.fetchone()
        self._wait = max((tat + interval - period - now).total_seconds(), 1.0)
        return False

    def wait(self):
        if database_store():
            return getattr(self, "_wait", None)
        return super().wait()

    def get_rate(self):
        # The rate is chosen per request in allow_request.
        return None

    def get_cache_key(self, request, view):
        integration = request.auth if isinstance(request.auth, Integration) else None
        if integration is not None:
            return f"throttle:integration:{integration.pk}"
        if request.user and request.user.is_authenticated:
            return f"throttle:user:{request.user.pk}"
        return f"throttle:anon:{self.get_ident(request)}"
