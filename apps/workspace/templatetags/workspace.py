"""The workspace chrome on every admin page: grouped navigation and the header search."""

from __future__ import annotations

from django import template
from django.utils import timezone

from apps.people.contact_fields import phone_display
from apps.workspace.navigation import navigation_for

register = template.Library()


@register.inclusion_tag("admin/workspace/nav.html", takes_context=True)
def workspace_nav(context):
    from django.contrib import admin  # lazy: the site is built after the apps load

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"groups": []}
    groups = navigation_for(request, admin.site, context.get("available_apps"))
    return {"groups": groups, "q": request.GET.get("q", "") if request.path.endswith("/search/") else ""}


@register.simple_tag
def current_zone_name() -> str:
    zone = timezone.get_current_timezone()
    return getattr(zone, "key", str(zone))


@register.filter
def phone(value) -> str:
    """{{ contact.phone|phone }} → "+1 415-555-0123" (the tel: link keeps E.164)."""
    return phone_display(value)
