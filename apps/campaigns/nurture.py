"""Nurture as a program (issue 19, item 3): a nurtured lead waits in the program its reason
maps to, then is recycled — a new lead cycle routed by the rules, with its clock started
fresh. A closed-lost opportunity sends its account's open leads to nurture.

All three steps run from one scheduled job (`campaigns.nurture_run`, apps.campaigns.tasks),
and each is safe to run twice: a lost opportunity is processed once (LostOpportunityNurture,
one row per opportunity), a cycle enters nurture once (NurtureEntry, one per cycle), and a due
entry is recycled under a row lock with skip_locked and marked in the same transaction.

Known limit: the lost-opportunity step and the entry step are scans, so they happen at the
job's next run (every 15 minutes), not in the transaction that closed the deal. Programs
recycle after a number of days; a "date given" by the prospect is not captured on a
disposition yet.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.cadences.models import Enrolment
from apps.cadences.services import enrolment_create
from apps.campaigns.models import LostOpportunityNurture, NurtureEntry, NurtureReasonProgram
from apps.leads.models import LeadCycle, LeadCycleEvent
from apps.leads.services import disposition_reason_by_code, lead_cycle_disposition
from apps.meetings.models import Opportunity, OpportunityEvent, OpportunityStage
from apps.routing.services import lead_route

OPPORTUNITY_LOST_CODE = "opportunity_lost"
# How far back the scans look: a deal lost or a lead nurtured before this is left alone (the
# first run after an upgrade does not nurture years of history at once).
LOOKBACK = dt.timedelta(days=30)


def lost_opportunities_due(*, now: dt.datetime) -> list[int]:
    done = LostOpportunityNurture.objects.filter(opportunity=OuterRef("pk"))
    return list(
        Opportunity.objects.filter(stage__outcome=OpportunityStage.Outcome.LOST, closed_at__gte=now - LOOKBACK)
        .exclude(closed_lost_reason="merged")  # a merge is bookkeeping, not a lost deal
        .exclude(Exists(done)).order_by("pk").values_list("pk", flat=True)
    )


def lost_opportunity_nurture(*, opportunity_id: int, now: dt.datetime | None = None) -> int:
    """Disposition the open (assigned or working) lead cycles of the lost opportunity's
    account to nurture, reason "Opportunity lost", the event naming the deal, its loss
    reason and who closed it. Returns how many; 0 when already done."""
    now = now or timezone.now()
    reason = disposition_reason_by_code(OPPORTUNITY_LOST_CODE)
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update(of=("self",)).select_related("stage").filter(pk=opportunity_id).first()
        if opportunity is None or LostOpportunityNurture.objects.filter(opportunity=opportunity).exists():
            return 0
        closer = (OpportunityEvent.objects.filter(opportunity=opportunity, kind=OpportunityEvent.Kind.STAGE,
                                                  to_stage=opportunity.stage).select_related("actor")
                  .order_by("-occurred_at").first())
        who = closer.actor.get_username() if closer and closer.actor else "the system"
        why = opportunity.get_closed_lost_reason_display() or "no reason given"
        note = f"Opportunity “{opportunity.name}” closed lost ({why}) by {who}"[:255]
        cycles = (LeadCycle.objects.filter(contact__account_id=opportunity.account_id)
                  .exclude(state=LeadCycle.State.DISPOSITIONED).order_by("pk"))
        count = 0
        for cycle in cycles:
            lead_cycle_disposition(cycle=cycle, disposition=LeadCycle.Disposition.NURTURE, reason=reason,
                                   system=True, at=now, note=note)
            count += 1
        LostOpportunityNurture.objects.create(opportunity=opportunity, processed_at=now, cycles=count)
    return count


def nurture_entries_create(*, now: dt.datetime | None = None) -> int:
    """Put every recently nurtured cycle whose reason maps to an active program into it."""
    now = now or timezone.now()
    links = {link.reason_id: link.program for link in
             NurtureReasonProgram.objects.filter(program__active=True).select_related("program")}
    if not links:
        return 0
    cycles = (LeadCycle.objects.filter(disposition=LeadCycle.Disposition.NURTURE, reason_id__in=list(links),
                                       dispositioned_at__gte=now - LOOKBACK)
              .exclude(Exists(NurtureEntry.objects.filter(cycle=OuterRef("pk"))))
              .only("pk", "contact_id", "reason_id", "disposition_reason", "dispositioned_at"))
    entries = []
    for cycle in cycles:
        program = links[cycle.reason_id]
        entries.append(NurtureEntry(
            cycle_id=cycle.pk, contact_id=cycle.contact_id, program=program, reason_label=cycle.disposition_reason,
            entered_at=cycle.dispositioned_at,
            recycle_due_at=cycle.dispositioned_at + dt.timedelta(days=program.recycle_after_days),
        ))
    # A concurrent run may have inserted some: the unique cycle makes those no-ops.
    return len(NurtureEntry.objects.bulk_create(entries, ignore_conflicts=True)) if entries else 0


def nurture_entries_due(*, now: dt.datetime) -> list[int]:
    return list(NurtureEntry.objects.filter(state=NurtureEntry.State.WAITING, recycle_due_at__lte=now)
                .order_by("recycle_due_at", "pk").values_list("pk", flat=True))


def nurture_recycle(*, entry_id: int, now: dt.datetime | None = None) -> str:
    """Recycle one due entry: route the contact as a new lead of the program's lead type (a
    new cycle, its clock from now), enrol it in the program's cadence, and say why on the new
    cycle's assignment event. Returns the entry's new state, or "" when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = (NurtureEntry.objects.select_for_update(skip_locked=True, of=("self",))
                 .select_related("program", "program__cadence", "contact")
                 .filter(pk=entry_id, state=NurtureEntry.State.WAITING, recycle_due_at__lte=now).first())
        if entry is None:
            return ""
        entry.recycled_at = now
        if LeadCycle.objects.filter(contact=entry.contact).exclude(state=LeadCycle.State.DISPOSITIONED).exists():
            entry.state = NurtureEntry.State.ALREADY_BACK
            entry.save(update_fields=["state", "recycled_at"])
            return entry.state
        program = entry.program
        decision = lead_route(contact=entry.contact, lead_type=program.recycle_lead_type)
        cycle = (LeadCycle.objects.filter(contact=entry.contact).exclude(state=LeadCycle.State.DISPOSITIONED)
                 .select_related("rep").first())
        if cycle is None:
            entry.state = NurtureEntry.State.ROUTED_NO_REP
            entry.save(update_fields=["state", "recycled_at"])
            return entry.state
        LeadCycleEvent.objects.filter(cycle=cycle, kind=LeadCycleEvent.Kind.ASSIGNED).update(
            note=f"recycled from nurture: {program.name} ({entry.reason_label}), after "
                 f"{(now - entry.entered_at).days} days; {decision.get_outcome_display()}"[:255]
        )
        if (program.cadence_id and program.cadence.active and cycle.rep_id
                and not Enrolment.objects.filter(contact=entry.contact, state=Enrolment.State.ACTIVE).exists()
                and program.cadence.steps.exists()):
            enrolment_create(contact=entry.contact, cadence=program.cadence, rep=cycle.rep, at=now)
        entry.state = NurtureEntry.State.RECYCLED
        entry.new_cycle = cycle
        entry.save(update_fields=["state", "recycled_at", "new_cycle"])
    return entry.state


def nurture_run(*, now: dt.datetime | None = None) -> dict:
    """The scheduled job's work, in order: lost deals → nurture; nurtured cycles → programs;
    due entries → recycled. Each item in its own transaction."""
    now = now or timezone.now()
    counts = {"lost_opportunities": 0, "to_nurture": 0, "entered": 0, "recycled": 0}
    for opportunity_id in lost_opportunities_due(now=now):
        counts["lost_opportunities"] += 1
        counts["to_nurture"] += lost_opportunity_nurture(opportunity_id=opportunity_id, now=now)
    counts["entered"] = nurture_entries_create(now=now)
    for entry_id in nurture_entries_due(now=now):
        counts["recycled"] += bool(nurture_recycle(entry_id=entry_id, now=now))
    return {k: v for k, v in counts.items() if v}
