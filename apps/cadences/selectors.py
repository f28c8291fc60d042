"""Reads for cadences and the lead lifecycle: a rep's today list and a manager's morning digest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.cadences.models import Enrolment, EnrolmentStep
from apps.people.models import LeadCycle, LeadType, Rep, TeamPullRange
from apps.people.selectors import reps_managed_by
from apps.people.timezones import rep_zone as _rep_zone

Outcome = EnrolmentStep.Outcome
DEFAULT_PULL_RANGE = (10, 15)


def rep_zone(rep: Rep) -> dt.tzinfo:
    return _rep_zone(rep)


def enrolment_steps_current() -> QuerySet[EnrolmentStep]:
    """The step each active enrolment is on (its lowest pending step)."""
    earlier = EnrolmentStep.objects.filter(
        enrolment_id=OuterRef("enrolment_id"), outcome=Outcome.PENDING, position__lt=OuterRef("position")
    )
    return EnrolmentStep.objects.filter(outcome=Outcome.PENDING, enrolment__state=Enrolment.State.ACTIVE).exclude(
        Exists(earlier)
    )


def enrolment_steps_today(*, rep_ids, now: dt.datetime | None = None, tz: dt.tzinfo | None = None) -> QuerySet[EnrolmentStep]:
    """Current steps due by the end of the rep's day, overdue first."""
    now = now or timezone.now()
    local = now.astimezone(tz or dt.UTC)
    end_of_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=local.tzinfo)
    return (
        enrolment_steps_current()
        .filter(enrolment__rep_id__in=rep_ids, due_at__lt=end_of_day)
        .select_related("enrolment__contact__account", "enrolment__cadence", "enrolment__rep", "step")
        .order_by("due_at", "pk")
    )


def enrolment_steps_overdue_for(*, rep_ids, now: dt.datetime | None = None) -> QuerySet[EnrolmentStep]:
    now = now or timezone.now()
    return (
        enrolment_steps_current()
        .filter(enrolment__rep_id__in=rep_ids, due_at__lt=now)
        .select_related("enrolment__contact", "enrolment__rep", "enrolment__cadence")
        .order_by("due_at", "pk")
    )


def enrolments_awaiting_disposition(*, rep_ids) -> QuerySet[Enrolment]:
    """Enrolments ended by a negative response whose lead is still open."""
    return (
        Enrolment.objects.filter(rep_id__in=rep_ids, state=Enrolment.State.NEGATIVE)
        .filter(contact__lead_cycles__state__in=[LeadCycle.State.ASSIGNED, LeadCycle.State.WORKING])
        .select_related("contact", "cadence")
        .distinct()
    )


def lead_sla_status(*, cycle: LeadCycle, now: dt.datetime | None = None) -> str:
    """On time / due in X / breached, as the contact page shows it."""
    now = now or timezone.now()
    if cycle.state == LeadCycle.State.DISPOSITIONED and cycle.bypassed_working:
        return "Dispositioned without a touch (bypassed working)"
    if cycle.first_touch_at is not None:
        late = cycle.sla_target_at is not None and cycle.first_touch_at > cycle.sla_target_at
        took = _duration(cycle.response_time) if cycle.response_time is not None else "?"
        return f"Responded in {took} ({'late' if late else 'on time'})"
    if cycle.sla_target_at is None:
        return "No response SLA for this lead type"
    if cycle.sla_maximum_at and now >= cycle.sla_maximum_at:
        return "Breached: past the maximum"
    if now >= cycle.sla_target_at:
        return f"Breached: past the target, re-assigned in {_duration(cycle.sla_maximum_at - now)}"
    return f"Due in {_duration(cycle.sla_target_at - now)}"


def _duration(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@dataclass
class PullAlert:
    rep: Rep
    pulled: int
    minimum: int
    maximum: int


@dataclass
class MorningDigest:
    manager: Rep
    local_date: dt.date
    outside_sla: list[LeadCycle] = field(default_factory=list)
    untouched: list[LeadCycle] = field(default_factory=list)
    meetings_without_disposition: list | None = None
    overdue_steps: list[EnrolmentStep] = field(default_factory=list)
    pull_alerts: list[PullAlert] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return (len(self.outside_sla) + len(self.untouched) + len(self.meetings_without_disposition or [])
                + len(self.overdue_steps) + len(self.pull_alerts))


def meetings_without_disposition(*, rep_ids, now: dt.datetime) -> list | None:
    """Meetings of these reps (as AE) that ended without a disposition, from the meetings
    app (issue 7) once it is installed; None until then (the digest hides the section)."""
    try:
        from apps.meetings.selectors import meetings_without_disposition as meetings_selector
    except ImportError:
        return None
    return list(meetings_selector(rep_ids=rep_ids, now=now))


def _work_day(day: dt.date) -> bool:
    return day.weekday() < 5


def pull_alerts_for(*, manager: Rep, reps: list[Rep], now: dt.datetime) -> list[PullAlert]:
    """Outbound reps whose pulls yesterday (manager's day) fell outside their team's range.

    An outbound rep is an SDR who pulled an outbound or target-account lead in the last 30
    days; weekends (no pulls expected) and reps out of office that day are not flagged."""
    tz = rep_zone(manager)
    yesterday = now.astimezone(tz).date() - dt.timedelta(days=1)
    if not _work_day(yesterday):
        return []
    start = dt.datetime.combine(yesterday, dt.time(0), tzinfo=tz)
    end = start + dt.timedelta(days=1)
    outbound = [LeadType.OUTBOUND, LeadType.TARGET_ACCOUNT]
    sdr_ids = [r.pk for r in reps if r.role == Rep.Role.SDR and r.active and not r.is_out_of_office(yesterday)]
    counts = dict(
        Rep.objects.filter(pk__in=sdr_ids)
        .annotate(
            recent=Count("lead_cycles", filter=Q(lead_cycles__lead_type__in=outbound,
                                                 lead_cycles__assigned_at__gte=end - dt.timedelta(days=30))),
            pulled=Count("lead_cycles", filter=Q(lead_cycles__lead_type__in=outbound,
                                                 lead_cycles__assigned_at__gte=start, lead_cycles__assigned_at__lt=end)),
        )
        .filter(recent__gt=0)
        .values_list("pk", "pulled")
    )
    ranges = {r.team_id: (r.minimum, r.maximum) for r in TeamPullRange.objects.filter(team_id__in={x.team_id for x in reps})}
    alerts = []
    for rep in reps:
        if rep.pk not in counts:
            continue
        low, high = ranges.get(rep.team_id, DEFAULT_PULL_RANGE)
        if not low <= counts[rep.pk] <= high:
            alerts.append(PullAlert(rep=rep, pulled=counts[rep.pk], minimum=low, maximum=high))
    return alerts


def morning_digest_for(*, manager: Rep, now: dt.datetime | None = None) -> MorningDigest:
    """Only the manager's own people: their teams' members and direct reports."""
    now = now or timezone.now()
    reps = list(reps_managed_by(rep=manager).exclude(pk=manager.pk).select_related("team"))
    rep_ids = [r.pk for r in reps]
    digest = MorningDigest(manager=manager, local_date=now.astimezone(rep_zone(manager)).date())
    open_untouched = (
        LeadCycle.objects.filter(rep_id__in=rep_ids, state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True)
        .select_related("contact__account", "rep")
        .order_by("assigned_at", "pk")
    )
    for cycle in open_untouched:
        if cycle.sla_target_at is not None and cycle.sla_target_at <= now:
            digest.outside_sla.append(cycle)
        else:
            digest.untouched.append(cycle)
    digest.meetings_without_disposition = meetings_without_disposition(rep_ids=rep_ids, now=now)
    digest.overdue_steps = list(enrolment_steps_overdue_for(rep_ids=rep_ids, now=now))
    digest.pull_alerts = pull_alerts_for(manager=manager, reps=reps, now=now)
    return digest


def contacts_for_lead_work(*, user) -> QuerySet:
    """Contacts whose lead page `user` may open and act on: those in their scope (accounts
    in their book) plus those whose open cycle is assigned to a rep they see — an SLA
    re-assignment hands a lead over before the account's book changes."""
    from apps.people.models import Contact
    from apps.people.selectors import contacts_visible_to, scoped_rep_ids

    ids = scoped_rep_ids(user=user)
    if ids is None:
        return Contact.objects.all()
    open_for_them = LeadCycle.objects.filter(rep_id__in=ids).exclude(state=LeadCycle.State.DISPOSITIONED)
    return Contact.objects.filter(
        Q(pk__in=contacts_visible_to(user=user).values("pk")) | Q(pk__in=open_for_them.values("contact_id"))
    )


@dataclass
class LeadSummary:
    contact: object
    cycles: list
    current: LeadCycle | None
    sla_status: str
    enrolment: Enrolment | None
    steps: list
    current_step: EnrolmentStep | None


def lead_summary(*, contact, now: dt.datetime | None = None) -> LeadSummary:
    now = now or timezone.now()
    cycles = list(
        LeadCycle.objects.filter(contact=contact).select_related("rep", "reason", "sla_policy").order_by("-number")
    )
    current = next((c for c in cycles if c.state != LeadCycle.State.DISPOSITIONED), None)
    for cycle in cycles:
        cycle.sla_status = lead_sla_status(cycle=cycle, now=now)
    enrolment = (
        Enrolment.objects.filter(contact=contact).select_related("cadence", "rep").order_by("-enrolled_at", "-pk").first()
    )
    steps = list(enrolment.steps.order_by("position")) if enrolment else []
    current_step = None
    if enrolment and enrolment.state == Enrolment.State.ACTIVE:
        current_step = next((s for s in steps if s.outcome == Outcome.PENDING), None)
    for step in steps:
        step.is_overdue = step.outcome == Outcome.PENDING and step.due_at < now
    return LeadSummary(
        contact=contact, cycles=cycles, current=current,
        sla_status=lead_sla_status(cycle=current, now=now) if current else "No open lead cycle",
        enrolment=enrolment, steps=steps, current_step=current_step,
    )


@dataclass
class RepLeadResponse:
    rep_id: int
    assigned: int
    picked_up: int
    bypassed: int
    breaches: int

    @property
    def pickup_rate(self) -> float | None:
        return self.picked_up / self.assigned if self.assigned else None

    @property
    def bypass_rate(self) -> float | None:
        return self.bypassed / self.picked_up if self.picked_up else None


def lead_response_by_rep(*, rep_ids, start: dt.datetime, end: dt.datetime) -> dict[int, RepLeadResponse]:
    """Per rep, for cycles assigned in [start, end): assigned, picked up (worked or
    dispositioned, bypasses included), dispositioned without a touch, SLA breaches past the
    maximum. One query; the reporting pages build on it."""
    from apps.people.models import SlaBreach

    in_period = Q(lead_cycles__assigned_at__gte=start, lead_cycles__assigned_at__lt=end)
    rows = (
        Rep.objects.filter(pk__in=list(rep_ids))
        .annotate(
            n_assigned=Count("lead_cycles", filter=in_period),
            n_picked=Count("lead_cycles", filter=in_period & (
                Q(lead_cycles__first_touch_at__isnull=False) | Q(lead_cycles__state=LeadCycle.State.DISPOSITIONED))),
            n_bypassed=Count("lead_cycles", filter=in_period & Q(lead_cycles__bypassed_working=True)),
        )
        .values_list("pk", "n_assigned", "n_picked", "n_bypassed")
    )
    breaches = dict(
        SlaBreach.objects.filter(rep_id__in=list(rep_ids), kind=SlaBreach.Kind.MAXIMUM,
                                 assigned_at__gte=start, assigned_at__lt=end)
        .values("rep_id").annotate(n=Count("pk")).values_list("rep_id", "n")
    )
    return {pk: RepLeadResponse(pk, a, p, b, breaches.get(pk, 0)) for pk, a, p, b in rows}
