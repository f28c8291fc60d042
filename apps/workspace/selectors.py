"""What each role's home shows. Every query starts from the owning app's scoped queryset or
selector (accounts_visible_to, meetings_visible_to, returns_reviewable_by, …): the home adds
no visibility rule of its own. Each list is capped, with its full count, so a home costs a
fixed number of queries whatever the size of the organisation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from apps.accounts.domains import normalize_domain
from apps.accounts.models import ImportRecord
from apps.cadences.selectors import enrolment_steps_today
from apps.leads.models import LeadCycle, SlaBreach
from apps.leads.selectors import lead_sla_status
from apps.meetings.models import Meeting
from apps.people.models import Rep
from apps.people.timezones import user_zone
from apps.reporting.targets import attainment_rows
from apps.routing.models import ReturnRequest, RoutingDecision
from apps.routing.selectors import returns_reviewable_by
from sdrops.access import (
    accounts_visible_to,
    contacts_visible_to,
    follow_ups_visible_to,
    meetings_visible_to,
    opportunities_visible_to,
    rep_for_user,
    reps_visible_to,
    returns_visible_to,
    user_sees_everything,
)

LIMIT = 8


@dataclass
class Box:
    """One block on a home: a title, its rows (capped), the full count and where "all" is."""

    key: str
    title: str
    rows: list = field(default_factory=list)
    count: int = 0
    more_url: str = ""
    empty: str = "Nothing here."
    kind: str = ""


def _box(key, title, queryset, *, more_url="", empty="Nothing here.", kind="", limit=LIMIT) -> Box:
    rows = list(queryset[: limit + 1])
    count = len(rows) if len(rows) <= limit else queryset.count()
    return Box(key=key, title=title, rows=rows[:limit], count=count, more_url=more_url, empty=empty, kind=kind)


def home_role(user) -> str:
    rep = rep_for_user(user)
    if user_sees_everything(user):
        return "ops"
    if rep is None:
        return "none"
    return rep.role


def _sdr_boxes(user, rep: Rep, now: dt.datetime) -> list[Box]:
    steps = enrolment_steps_today(rep_ids=[rep.pk], now=now, tz=user_zone(user)).select_related(
        "enrolment__contact__account", "enrolment__cadence"
    )
    untouched = (
        LeadCycle.objects.filter(rep=rep, state=LeadCycle.State.ASSIGNED)
        .select_related("contact__account", "sla_policy").order_by("sla_maximum_at", "assigned_at")
    )
    untouched_box = _box("untouched", "Untouched leads (SLA clock running)", untouched,
                         more_url=reverse("admin:cadences_today"), empty="No untouched leads.", kind="leads")
    for cycle in untouched_box.rows:
        cycle.sla_status = lead_sla_status(cycle=cycle, now=now)
        cycle.breached = bool(cycle.sla_maximum_at and cycle.sla_maximum_at < now)
    upcoming = (
        meetings_visible_to(user=user).filter(sdr=rep, status=Meeting.Status.SCHEDULED, scheduled_at__gt=now)
        .select_related("contact", "account", "ae").order_by("scheduled_at")
    )
    returns = returns_visible_to(user=user).filter(rep=rep).select_related("account").order_by("-created_at")
    book = accounts_visible_to(user=user).filter(owner=rep)
    health = book.aggregate(
        total=Count("pk"),
        tier_a=Count("pk", filter=Q(tier="A")),
        tier_b=Count("pk", filter=Q(tier="B")),
        tier_c=Count("pk", filter=Q(tier="C")),
        unscored=Count("pk", filter=Q(tier="")),
    )
    stale_before = now - dt.timedelta(days=30)
    health["untouched_30d"] = book.exclude(activities__occurred_at__gte=stale_before).count()
    health["capacity"] = rep.capacity
    follow_ups = (follow_ups_visible_to(user=user).filter(rep=rep, status="open")
                  .select_related("contact__account", "account").order_by("due_at", "pk"))
    return [
        _box("steps", "Due today and overdue", steps.order_by("due_at"), more_url=reverse("admin:cadences_today"),
             empty="No cadence steps due today.", kind="steps"),
        untouched_box,
        _box("follow-ups", "My follow-ups", follow_ups, empty="No follow-ups. Log one on a lead's page.", kind="follow_ups"),
        _box("prepare", "Meetings to prepare", upcoming, empty="No upcoming meetings.", kind="meetings",
             more_url=reverse("admin:meetings_meeting_changelist") + "?queue=upcoming"),
        _box("returns", "Returns filed", returns, empty="No returns filed.", kind="returns",
             more_url=reverse("admin:routing_returnrequest_changelist")),
        Box(key="book", title="My book", rows=[health], count=health["total"], kind="book",
            more_url=reverse("admin:accounts_account_changelist")),
    ]


def _ae_boxes(user, rep: Rep, now: dt.datetime) -> list[Box]:
    upcoming = (
        meetings_visible_to(user=user).filter(ae=rep, status=Meeting.Status.SCHEDULED, scheduled_at__gt=now)
        .select_related("contact", "account", "sdr").order_by("scheduled_at")
    )
    opportunities = (
        opportunities_visible_to(user=user).filter(owner=rep, is_open=True)
        .select_related("account", "stage", "sourcing_sdr").order_by("close_date", "-amount")
    )
    box = _box("opportunities", "My open opportunities", opportunities, kind="opportunities",
               empty="No open opportunities.", more_url=reverse("admin:meetings_opportunity_changelist"))
    box.total_amount = opportunities.aggregate(total=Sum("amount"))["total"] or 0
    return [
        _box("upcoming", "Upcoming meetings", upcoming, empty="No upcoming meetings.", kind="meetings",
             more_url=reverse("admin:meetings_meeting_changelist") + "?queue=upcoming"),
        box,
    ]


def _manager_boxes(user, rep: Rep, now: dt.datetime) -> list[Box]:
    team = reps_visible_to(user=user).filter(role=Rep.Role.SDR, active=True)
    since = now - dt.timedelta(days=30)
    cycles = LeadCycle.objects.counted().filter(rep__in=team, assigned_at__gte=since)  # exceptions left out
    headline = cycles.aggregate(
        leads=Count("pk"),
        qualified=Count("pk", filter=Q(disposition=LeadCycle.Disposition.QUALIFIED)),
        untouched=Count("pk", filter=Q(state=LeadCycle.State.ASSIGNED)),
    )
    headline["meetings"] = meetings_visible_to(user=user).filter(booked_at__gte=since).count()
    headline["rate"] = (headline["qualified"] / headline["leads"]) if headline["leads"] else None
    breaches = (
        SlaBreach.objects.filter(rep__in=reps_visible_to(user=user), breached_at__gte=now - dt.timedelta(days=7),
                                 cycle__exception_at__isnull=True)
        .select_related("cycle__contact", "rep").order_by("-breached_at")
    )
    reviews = returns_reviewable_by(user=user).filter(status=ReturnRequest.Status.PENDING).select_related("rep", "account")
    today = timezone.localdate()
    away = reps_visible_to(user=user).out_of_office(today)
    return [
        Box(key="headline", title="Team, last 30 days", rows=[headline], count=1, kind="headline",
            more_url=reverse("admin:report", args=["team-dashboard"])),
        _box("escalations", "SLA escalations (last 7 days)", breaches, kind="breaches", empty="No escalations.",
             more_url=reverse("admin:leads_slabreach_changelist") if _has_changelist("leads", "slabreach") else ""),
        _box("reviews", "Returns to review", reviews, kind="returns", empty="No returns waiting for you.",
             more_url=reverse("admin:routing_returnrequest_changelist") + "?status__exact=pending"),
        _box("away", "Out of office", away, kind="reps", empty="Everyone is in."),
        Box(key="attainment", title=f"Targets and attainment, {today:%B}", kind="attainment",
            rows=(rows := attainment_rows(rep_ids=team.values_list("pk", flat=True), month=today, today=today)),
            count=len(rows), more_url=reverse("admin:report", args=["attainment"]), empty="No SDRs in your teams."),
    ]


def _ops_boxes(user, now: dt.datetime) -> list[Box]:
    from django_q.models import Failure

    unmatched = (
        RoutingDecision.objects.filter(outcome__in=["unmatched", "no_rep"], resolved_at__isnull=True)
        .select_related("contact").order_by("-pk")
    )
    imports = ImportRecord.objects.order_by("-created_at")
    failures = Failure.objects.order_by("-stopped")
    reviews = returns_reviewable_by(user=user).filter(status=ReturnRequest.Status.PENDING).select_related("rep", "account")
    accounts = accounts_visible_to(user=user)
    contacts = contacts_visible_to(user=user)
    quality = [
        ("Accounts without a domain", accounts.filter(Q(domain__isnull=True) | Q(domain="")).count(),
         reverse("admin:accounts_account_changelist") + "?domain__isnull=True"),
        ("Accounts not scored yet", accounts.filter(scored_at__isnull=True).count(),
         reverse("admin:accounts_account_changelist")),
        ("Accounts without industry or size", accounts.filter(Q(industry="") | Q(employees__isnull=True)).count(),
         reverse("admin:accounts_account_changelist")),
        ("Contacts without an email", contacts.filter(email="").count(), reverse("admin:people_contact_changelist")),
    ]
    return [
        _box("unmatched", "Unmatched leads", unmatched, kind="unmatched", empty="No lead waiting for ops.",
             more_url=reverse("admin:routing_routingdecision_changelist") + "?queue=open"),
        _box("imports", "Imports", imports, kind="imports", empty="No imports yet.",
             more_url=reverse("admin:accounts_importrecord_changelist") if _has_changelist("accounts", "importrecord") else ""),
        _box("failures", "Failed background jobs", failures, kind="failures", empty="No failed jobs.",
             more_url=reverse("admin:jobs")),
        _box("reviews", "Returns to review", reviews, kind="returns", empty="No returns waiting.",
             more_url=reverse("admin:routing_returnrequest_changelist") + "?status__exact=pending"),
        Box(key="quality", title="Data quality", rows=quality, count=len(quality), kind="quality"),
    ]


def _has_changelist(app_label: str, model: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(f"admin:{app_label}_{model}_changelist")
    except NoReverseMatch:
        return False
    return True


def home_for(*, user, now: dt.datetime | None = None) -> tuple[str, list[Box]]:
    """(role, boxes) of a user's home."""
    now = now or timezone.now()
    role = home_role(user)
    rep = rep_for_user(user)
    if role == "ops":
        return role, _ops_boxes(user, now)
    if role == Rep.Role.SDR:
        return role, _sdr_boxes(user, rep, now)
    if role == Rep.Role.AE:
        return role, _ae_boxes(user, rep, now)
    if role == Rep.Role.MANAGER:
        return role, _manager_boxes(user, rep, now)
    return role, []


# The columns the search page shows (apps/workspace/templates/admin/workspace/search.html, the
# related objects' __str__): only these are read. Every column of an account, a contact and a
# lead with its contact, account and rep was most of the page's ORM time; a use that needs more
# columns adds them here (a column left out is loaded row by row).
_SEARCH_COLUMNS = {
    "accounts": ("name", "domain", "tier", "owner__owner_name"),
    "contacts": ("first_name", "last_name", "title", "email", "account__name"),
    "leads": ("contact__first_name", "contact__last_name", "contact__account__name", "rep__owner_name", "state",
              "assigned_at"),
}


def search(*, user, q: str, limit: int = 10) -> dict[str, list]:
    """Accounts, contacts and leads matching a name, domain or email, inside the user's scope
    (accounts_visible_to / contacts_visible_to: the same answer as opening them by URL), with
    the columns the search page shows (`_SEARCH_COLUMNS`)."""
    q = (q or "").strip()
    if len(q) < 2:
        return {"accounts": [], "contacts": [], "leads": []}
    try:
        domain = normalize_domain(q) if "." in q else ""
    except ValidationError:  # not a domain or an email: search names only
        domain = ""
    account_q = Q(name__icontains=q) | Q(domain__icontains=q)
    if domain:
        account_q |= Q(domain=domain) | Q(aliases__domain=domain)
    accounts = list(
        accounts_visible_to(user=user).filter(account_q).select_related("owner").only(*_SEARCH_COLUMNS["accounts"])
        .distinct().order_by("name")[:limit]
    )
    full_name = Q()
    parts = q.split()
    if len(parts) >= 2:
        full_name = Q(first_name__icontains=parts[0], last_name__icontains=" ".join(parts[1:]))
    contact_q = Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q) | full_name
    contacts = list(
        contacts_visible_to(user=user).filter(contact_q).select_related("account").only(*_SEARCH_COLUMNS["contacts"])
        .order_by("last_name", "first_name")[:limit]
    )
    lead_ids = [c.pk for c in contacts]
    open_cycles = (
        LeadCycle.objects.filter(contact_id__in=lead_ids).exclude(state=LeadCycle.State.DISPOSITIONED)
        .select_related("contact__account", "rep").only(*_SEARCH_COLUMNS["leads"]).order_by("-assigned_at")
    )
    return {"accounts": accounts, "contacts": contacts, "leads": list(open_cycles)}
