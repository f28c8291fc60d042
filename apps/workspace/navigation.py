"""Navigation grouped by the job people do, not by Django app: Work, Books, Leads, Meetings,
Reports, Setup. Built from the admin site's own app list for the request, so a role sees only
the models its permissions open (the same check Django's index makes); the custom pages
(Today, claim next, reports, jobs) carry the permission their view checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from apps.reporting.reports import reports_in_order
from apps.reporting.views import reports_allowed

GROUPS = ["Work", "Books", "Leads", "Meetings", "Reports", "Setup"]

# app_label.model → (group, label people use). Models not listed land in Setup.
MODEL_GROUPS = {
    "accounts.activity": ("Work", "Activities"),
    "routing.returnrequest": ("Work", "Returns"),
    "routing.queueitem": ("Work", "Claim queue"),
    "accounts.account": ("Books", "Accounts"),
    "people.contact": ("Books", "Contacts"),
    "accounts.ownershipevent": ("Books", "Ownership history"),
    "routing.distribution": ("Books", "Distributions"),
    "routing.accountrest": ("Books", "Resting accounts"),
    "accounts.domainalias": ("Books", "Domain aliases"),
    "icps.signal": ("Books", "Signals"),
    "icps.scorehistory": ("Books", "Score history"),
    "people.leadcycle": ("Leads", "Lead cycles"),
    "leads.leadcycle": ("Leads", "Lead cycles"),
    "cadences.enrolment": ("Leads", "Enrolments"),
    "leads.enrolment": ("Leads", "Enrolments"),
    "cadences.cadence": ("Leads", "Cadences"),
    "leads.cadence": ("Leads", "Cadences"),
    "routing.routingdecision": ("Leads", "Routing decisions"),
    "people.slabreach": ("Leads", "SLA breaches"),
    "leads.slabreach": ("Leads", "SLA breaches"),
    "people.personaldatarequest": ("Leads", "Erasure requests"),
    "meetings.meeting": ("Meetings", "Meetings"),
    "meetings.opportunity": ("Meetings", "Opportunities"),
    "meetings.rescheduleattempt": ("Meetings", "Reschedules"),
    "meetings.meetingnotification": ("Meetings", "Meeting emails"),
}


@dataclass
class NavGroup:
    name: str
    items: list[tuple[str, str]] = field(default_factory=list)


def _url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def navigation_for(request, site, app_list=None) -> list[NavGroup]:
    """`app_list`: the page's `available_apps` (every admin page already computes it in
    each_context), so the menus cost no query of their own."""
    user = request.user
    groups = {name: NavGroup(name) for name in GROUPS}

    def add(group: str, label: str, url: str | None):
        if url:
            groups[group].items.append((label, url))

    add("Work", "Home", _url("admin:index"))
    if user.has_perm("cadences.view_enrolment"):
        add("Work", "Today", _url("admin:cadences_today"))
    for app in app_list if app_list is not None else site.get_app_list(request):
        for model in app["models"]:
            key = f"{app['app_label']}.{model['object_name'].lower()}"
            url = model.get("admin_url")
            if not url:
                continue
            group, label = MODEL_GROUPS.get(key, ("Setup", model["name"]))
            add(group, label, url)
    if reports_allowed(user):
        add("Reports", "All reports", _url("admin:reports"))
        for report in reports_in_order():
            add("Reports", report.title, _url("admin:report", report.slug))
    if user.has_perm("django_q.view_schedule"):
        add("Setup", "Background jobs", _url("admin:jobs"))
    return [group for group in groups.values() if group.items]
