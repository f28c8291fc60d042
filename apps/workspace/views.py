"""Workspace pages inside the admin (installed by sdrops.admin_site): the profile, the header
search and each role's home. Thin: forms parse, services write, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from apps.people.selectors import rep_for_user
from apps.people.timezones import user_zone, user_zone_is_personal
from apps.workspace import services
from apps.workspace.forms import ProfileForm


def profile_view(site, request):
    personal = user_zone_is_personal(request.user)
    zone = user_zone(request.user)
    form = None
    if personal:
        form = ProfileForm(request.POST or None, initial={"time_zone": getattr(zone, "key", "UTC")})
        if request.method == "POST" and form.is_valid():
            try:
                services.profile_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
            except ValidationError as error:
                form.add_error("time_zone", error.messages)
            else:
                messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone']}.")
                return redirect("admin:workspace_profile")
    context = {
        **site.each_context(request),
        "title": "Your profile",
        "form": form,
        "rep": rep_for_user(request.user),
        "zone": zone,
        "now": timezone.now(),
    }
    return TemplateResponse(request, "admin/workspace/profile.html", context)
