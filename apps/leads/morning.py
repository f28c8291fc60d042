"""The manager's morning "clean your room" email: what it lists (their people's untouched and
out-of-SLA leads, meetings without a disposition, overdue cadence steps, pull-range alerts)
and its once-a-day sending in the manager's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.cadences.models import EnrolmentStep
from apps.cadences.selectors import enrolment_steps_overdue_for
from apps.leads import events
from apps.leads.models import LeadCycle, LeadType, LifecycleSettings, MorningEmail, TeamPullRange
from apps.leads.notifications import contact_url, send_templated
from apps.meetings.selectors import meetings_without_disposition as meetings_selector
from apps.people.models import Rep
from apps.people.selectors import reps_managed_by
from apps.people.timezones import rep_zone

DEFAULT_PULL_RANGE = (10, 15)


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


def meetings_without_disposition(*, rep_ids, now: dt.datetime) -> list:
    """Meetings of these reps (as AE) that ended without a disposition."""
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
    sdr_ids = [r.pk for r in reps if r.role == Rep.Role.SDR and r.is_available(yesterday)]
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


def morning_email_send(*, manager_id: int, now: dt.datetime | None = None) -> bool:
    """Send a manager today's "clean your room" email, once per local day.

    The MorningEmail row (unique per manager and local date) is written first; the mail goes
    after commit. A second run the same day — or a concurrent one — finds the row and sends
    nothing."""
    now = now or timezone.now()
    manager = Rep.objects.select_related("user").filter(pk=manager_id, active=True).first()
    if manager is None:
        return False
    digest = morning_digest_for(manager=manager, now=now)
    with transaction.atomic():
        row, created = MorningEmail.objects.get_or_create(
            manager=manager, local_date=digest.local_date, defaults={"sent_at": now, "items": digest.item_count}
        )
        if not created:
            return False
        events.morning_summary.send(sender=Rep, digest=digest)
        transaction.on_commit(lambda: _morning_email_deliver(digest))
    return True


def _morning_email_deliver(digest) -> None:
    send_templated(
        to=[digest.manager.user.email],
        template="morning_email",
        context={
            "digest": digest,
            "tz": rep_zone(digest.manager),
            "outside_sla": [(c, contact_url(c.contact_id)) for c in digest.outside_sla],
            "untouched": [(c, contact_url(c.contact_id)) for c in digest.untouched],
            "overdue_steps": [(s, contact_url(s.enrolment.contact_id)) for s in digest.overdue_steps],
        },
    )


def morning_emails_due(*, now: dt.datetime | None = None) -> list[int]:
    """Managers whose local time is in the morning window (from the configured hour, for 3 h
    so a missed hourly run still sends) and who have not had today's email."""
    now = now or timezone.now()
    hour = LifecycleSettings.load().morning_email_hour
    due = []
    managers = Rep.objects.filter(role=Rep.Role.MANAGER, active=True).order_by("pk")
    sent = set(MorningEmail.objects.filter(local_date__gte=(now - dt.timedelta(days=1)).date()).values_list("manager_id", "local_date"))
    for manager in managers:
        local = now.astimezone(rep_zone(manager))
        if hour <= local.hour < hour + 3 and (manager.pk, local.date()) not in sent:
            due.append(manager.pk)
    return due
