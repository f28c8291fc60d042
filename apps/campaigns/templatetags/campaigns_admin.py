"""The alarms panel on the admin index: a manager's first look at cherry-picking and deals
gone dark in their teams."""

from __future__ import annotations

from django import template
from django.urls import reverse

from apps.campaigns.alarms import alarms_open_for

register = template.Library()


@register.inclusion_tag("admin/campaigns/alarms_panel.html", takes_context=True)
def alarms_panel(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("campaigns.view_alarm"):
        return {"alarms": None}
    return {"alarms": alarms_open_for(user=user),
            "more_url": reverse("admin:campaigns_alarm_changelist") + "?acknowledged_at__isempty=1"}
