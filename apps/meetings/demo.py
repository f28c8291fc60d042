"""Demo meetings for `seed_demo`: each working SDR has booked a few meetings over the last
days — some dispositioned (qualified ones with their opportunity, no-shows with a reschedule
task), some waiting for the AE, a few overdue for the manager — and some still to come.
Goes through the real services with past times."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.cadences.models import Enrolment
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.meetings.models import Meeting
from apps.meetings.selectors import stage_by_code
from apps.meetings.services import (
    meeting_book,
    meeting_disposition,
    opportunity_stage_set,
    opportunity_update,
)
from apps.people.models import Contact, Rep


def demo_meetings(*, rng, sdrs, now: dt.datetime, per_rep: int = 4) -> int:

    booked = 0
    busy = set(Enrolment.objects.filter(state=Enrolment.State.ACTIVE).values_list("contact_id", flat=True))
    busy |= set(Meeting.objects.values_list("contact_id", flat=True))
    pipeline = stage_by_code("pipeline")
    for sdr in sdrs:
        if sdr.is_out_of_office() or sdr.ramp_factor() == 0 or not sdr.ae_partners.exists():
            continue
        candidates = [
            c for c in Contact.objects.filter(account__owner=sdr).order_by("pk")[:200] if c.pk not in busy
        ]
        for contact in rng.sample(candidates, min(per_rep, len(candidates))):
            busy.add(contact.pk)
            booked_at = now - dt.timedelta(days=rng.uniform(3, 10))
            start = (booked_at + dt.timedelta(days=rng.choice([1, 2, 3, 5, 8, 12]), hours=rng.uniform(0, 6))).replace(
                minute=0, second=0, microsecond=0
            )
            if start <= booked_at:
                continue
            if not LeadCycle.objects.filter(contact=contact).open().exists():
                lead_cycle_open(contact=contact, rep=sdr, lead_type="outbound",
                                assigned_at=booked_at - dt.timedelta(days=2), actor=sdr.user)
            meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start, booked_at=booked_at,
                                   notes="Pain: manual reporting. Evaluating two vendors.")
            booked += 1
            end = meeting.scheduled_end_at
            if end > now:
                continue  # still to come
            roll = rng.random()
            if roll < 0.25:
                continue  # waiting for the AE (overdue once a day has passed)
            at = min(now, end + dt.timedelta(hours=rng.choice([0.5, 2, 5, 20, 30])))
            if roll < 0.65:
                meeting = meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_QUALIFIED,
                                              actor=meeting.ae.user, at=at, notes="Good fit; next: discovery.")
                if rng.random() < 0.5:
                    _demo_amount(rng, meeting, at)
                    opportunity_stage_set(opportunity=meeting.opportunity, stage=pipeline, actor=meeting.ae.user,
                                          at=min(now, at + dt.timedelta(days=1)))
            else:
                meeting_disposition(meeting=meeting, outcome=Meeting.Status.NO_SHOW, actor=meeting.ae.user, at=at)
    return booked


AMOUNTS = {"smb": (8_000, 30_000), "mid_market": (30_000, 120_000), "enterprise": (120_000, 480_000),
           "pubsec": (50_000, 250_000)}


def demo_qualified_meetings(*, rng, cycles, now: dt.datetime) -> tuple[int, int]:
    """The demo's SQLs: for each (contact id, SDR id, first touch) an initial qualifying
    meeting booked a little after the first touch and completed as qualified by the AE, through
    the real services (so the lead cycle, the opportunity and its events are what a real team
    leaves). About 60% of the opportunities reach the pipeline stage with an amount that
    fits the account's segment. Returns (SQLs, opportunities in the pipeline)."""
    pipeline = stage_by_code("pipeline")
    reps = {r.pk: r for r in Rep.objects.filter(pk__in={rep_id for _, rep_id, _ in cycles}).select_related("user")}
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in=[c for c, _, _ in cycles]).select_related("account")}
    sqls = opps = 0
    for contact_id, rep_id, touch in cycles:
        sdr, contact = reps.get(rep_id), contacts.get(contact_id)
        if sdr is None or contact is None or contact.account_id is None or not sdr.ae_partners.exists():
            continue
        booked_at = touch + dt.timedelta(hours=rng.uniform(1, 30))
        start = (booked_at + dt.timedelta(days=rng.choice([1, 2, 3, 5]))).replace(minute=0, second=0, microsecond=0)
        if start + dt.timedelta(hours=1) >= now or booked_at >= now or start <= booked_at:
            continue
        meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start, booked_at=booked_at,
                               notes="Came in through the website; wants to see reporting.")
        at = meeting.scheduled_end_at + dt.timedelta(hours=rng.choice([0.5, 1, 3, 6]))
        meeting = meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_QUALIFIED,
                                      actor=meeting.ae.user, at=min(now, at), notes="Qualified: budget and a timeline.")
        sqls += 1
        if meeting.opportunity_id and rng.random() < 0.6:
            _demo_amount(rng, meeting, min(now, at))
            opportunity_stage_set(opportunity=meeting.opportunity, stage=pipeline, actor=meeting.ae.user,
                                  at=min(now, at + dt.timedelta(days=rng.uniform(1, 6))))
            opps += 1
    return sqls, opps


def _demo_amount(rng, meeting, at: dt.datetime) -> None:
    """An amount (IACV) that fits the account's segment and a close date ahead (an open deal
    whose close date has passed would read as neglected)."""
    from decimal import Decimal

    low, high = AMOUNTS.get(meeting.account.segment, AMOUNTS["smb"])
    opportunity_update(opportunity=meeting.opportunity, actor=meeting.ae.user,
                       amount=Decimal(round(rng.uniform(low, high), -3)),
                       close_date=(max(at, timezone.now()) + dt.timedelta(days=rng.randint(10, 120))).date())
