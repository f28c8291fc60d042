from __future__ import annotations

from django import template

from apps.reporting.reports import reports_in_order
from apps.reporting.views import reports_allowed

register = template.Library()


@register.simple_tag(takes_context=True)
def report_links(context):
    """The report pages the signed-in user may open, for the admin index's Reports block."""

    request = context.get("request")
    if request is None or not reports_allowed(request.user):
        return []
    return reports_in_order()
