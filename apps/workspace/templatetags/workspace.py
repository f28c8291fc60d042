"""The workspace chrome on every admin page: grouped navigation and the header search."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils import timezone

from apps.people.contact_fields import phone_display
from apps.workspace.navigation import navigation_for
from sdrops import config_cache
from sdrops.access import rep_for_user
from sdrops.admin_app_list import viewer_key

register = template.Library()


@register.inclusion_tag("admin/workspace/nav.html", takes_context=True)
def workspace_nav(context):
    from django.contrib import admin  # lazy: the site is built after the apps load

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"groups_html": ""}

    def groups_html() -> str:
        groups = navigation_for(request, admin.site, context.get("available_apps"))
        return render_to_string("admin/workspace/nav_groups.html", {"groups": groups}) if groups else ""

    # The menus are the user's app list plus what their role may open (reports, Today, jobs):
    # kept with the app list per user and configuration version, and per rep and role, which
    # decide the reports (sdrops/admin_app_list.py, `viewer_key`). A page (GET) reads the
    # version once for all of it (sdrops.config_cache.ConfigVersionMiddleware).
    key = viewer_key(request.user)
    rep = rep_for_user(request.user)
    html = (groups_html() if key is None else
            config_cache.cached(("workspace_nav", *key, rep and rep.pk, rep and rep.role), groups_html))
    return {"groups_html": html, "q": request.GET.get("q", "") if request.path.endswith("/search/") else ""}


@register.simple_tag
def current_zone_name() -> str:
    zone = timezone.get_current_timezone()
    return getattr(zone, "key", str(zone))


@register.filter
def phone(value) -> str:
    """{{ contact.phone|phone }} → "+1 415-555-0123" (the tel: link keeps E.164)."""
    return phone_display(value)
