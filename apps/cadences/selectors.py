"""Reads for cadences: a rep's today list, the lead page's summary and who may work which lead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.cadences.models import Enrolment, EnrolmentStep
from apps.leads.models import LeadCycle
from apps.leads.selectors import lead_sla_status

Outcome = EnrolmentStep.Outcome


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
        LeadCycle.objects.filter(contact=contact).select_related("rep", "reason", "sla_policy")
        .prefetch_related("qualification_checks__criterion").order_by("-number")
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
