"""Token authentication per integration: `Authorization: Bearer sdr_…`.

`request.user` is the integration's user (so every selector scopes the request as it
would that person) and `request.auth` is the Integration (scopes, throttle rate).
"""

from __future__ import annotations

from django.db.models.expressions import RawSQL
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.integrations.models import Integration, token_hash
from sdrops import config_cache
from sdrops.api.throttling import database_store

KEYWORDS = (b"bearer", b"token")


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected “Bearer <token>”.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.")
        integration = (
            # The user's rep comes along: every scoped selector asks for it (rep_for_user);
            # so does the configuration version, which the request's cached settings and
            # permission sets are checked against (sdrops.config_cache).
            Integration.objects.select_related("user", "user__rep")
            .annotate(config_version=RawSQL(config_cache.version_sql(), []))
            .filter(token_hash=token_hash(raw)).first()
        )
        if integration is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not integration.active:
            raise exceptions.AuthenticationFailed(f"The integration “{integration.name}” is deactivated.")
        if not integration.user.is_active:
            raise exceptions.AuthenticationFailed(f"The user of the integration “{integration.name}” is inactive.")
        config_cache.version_set(integration.config_version)  # for this request (ConfigVersionMiddleware)
        now = timezone.now()
        # At most one write a minute per integration for "last used". With the database
        # throttle the write rides on its statement (sdrops.api.throttling); else it is ours.
        if integration.last_used_at is None or (now - integration.last_used_at).total_seconds() > 60:
            if database_store():
                request.sdrops_last_used_due = True
            else:
                Integration.objects.filter(pk=integration.pk).update(last_used_at=now)
        return integration.user, integration

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sdrops.api.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration's token (admin → Integrations, or `manage.py create_integration`).",
        }
