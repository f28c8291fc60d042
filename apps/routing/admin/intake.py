"""Lead intake from the contact admin: route selected leads, one message line per result."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.routing.admin.common import _error_text
from apps.routing.intake import lead_intake, lead_intake_message


@admin.action(description="Route the selected inbound leads", permissions=["change"])
def route_selected_leads(modeladmin, request, queryset):
    """For the contact admin: route each selected lead through lead intake; a lead with an
    open cycle is reported on its own line and left alone."""
    routed = 0
    for email in queryset.order_by("pk").values_list("email", flat=True):
        try:
            result = lead_intake(actor=request.user, email=email)
        except ValidationError as error:
            modeladmin.message_user(request, f"{email}: {_error_text(error)}", messages.ERROR)
            continue
        routed += result.routed
        text = lead_intake_message(result)
        modeladmin.message_user(request, text if text.startswith(email) else f"{email}: {text}",
                                messages.SUCCESS if result.routed else messages.WARNING)
    if routed > 10:
        modeladmin.message_user(request, f"{routed} lead(s) routed.")
