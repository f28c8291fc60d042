"""What a request may do: the integration's scopes, then the user's role permissions.
Row scoping (whose book) is done by the selectors in each view's queryset."""

from __future__ import annotations

from rest_framework import permissions

from apps.integrations.models import Integration


def request_integration(request) -> Integration | None:
    return request.auth if isinstance(request.auth, Integration) else None


def scope_allows(request, scope: str) -> bool:
    """Session users have every scope; their role permissions still apply."""
    integration = request_integration(request)
    return integration is None or integration.has_scope(scope)


class ScopedPermission(permissions.IsAuthenticated):
    """Views declare `scopes = {"GET": "read", "POST": "write_accounts", ...}` and
    `model_perms = {"POST": ["accounts.add_account"], ...}`."""

    message = "Not allowed."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        scope = getattr(view, "scopes", {}).get(method)
        if scope and not scope_allows(request, scope):
            self.message = f"This integration lacks the “{scope}” scope."
            return False
        perms = getattr(view, "model_perms", {}).get(method, [])
        if perms and not request.user.has_perms(perms):
            self.message = "Your role may not do this."
            return False
        return True
