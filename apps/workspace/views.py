"""Workspace pages inside the admin (installed by sdrops.admin_site): the profile, the header
search and each role's home. Thin: forms parse, services write, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from apps.people.timezones import user_zone, user_zone_is_personal
from apps.workspace import services
from apps.workspace.forms import ProfileForm
from apps.workspace.records import account_record, contact_record
from apps.workspace.selectors import home_for, search
from sdrops import config_cache
from sdrops.access import rep_for_user


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


GREETINGS = {
    "sdr": ("Your day", "Steps due, leads waiting for a first touch, meetings to prepare and your book."),
    "ae": ("Your meetings", "Meetings to disposition (oldest first), what is coming up and your pipeline."),
    "manager": ("Your team", "How the team is doing, what escalated and what waits for your review."),
    "ops": ("Operations", "Leads nobody could route, imports, failed jobs, reviews and data quality."),
    "none": ("Welcome", "Ask ops for a rep record to get your own work here."),
}


@config_cache.one_version
def home_view(site, request):
    now = timezone.now()
    role, boxes = home_for(user=request.user, now=now)
    title, lead = GREETINGS.get(role, GREETINGS["none"])
    context = {
        **site.each_context(request),
        "title": title,
        "greeting": title,
        "lead": lead,
        "role": role,
        "boxes": boxes,
        "now": now,
    }
    return TemplateResponse(request, "admin/workspace/home.html", context)


@config_cache.one_version
def search_view(site, request):
    q = request.GET.get("q", "")[:200]
    results = search(user=request.user, q=q)
    context = {
        **site.each_context(request),
        "title": f"Search: {q}" if q else "Search",
        "q": q,
        "results": results,
        "total": sum(len(rows) for rows in results.values()),
    }
    return TemplateResponse(request, "admin/workspace/search.html", context)


@config_cache.one_version
def account_record_view(site, request, pk: int):
    record = account_record(user=request.user, account_id=pk)
    context = {**site.each_context(request), "title": record["account"].name, "now": timezone.now(), **record}
    return TemplateResponse(request, "admin/workspace/account_record.html", context)


@config_cache.one_version
def contact_record_view(site, request, pk: int):
    record = contact_record(user=request.user, contact_id=pk)
    contact = record["contact"]
    title = f"{contact.first_name} {contact.last_name}".strip() or contact.email
    context = {**site.each_context(request), "title": title, "now": timezone.now(), **record}
    return TemplateResponse(request, "admin/workspace/contact_record.html", context)
