"""Rate limits per integration (its own rate, or API_DEFAULT_INTEGRATION_RATE) and per
logged-in user (API_DEFAULT_USER_RATE). Counters live in the shared cache."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.integrations.models import Integration


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
        return super().allow_request(request, view)

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
