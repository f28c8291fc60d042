"""Work waiting for every role in the demo, so each flow can be tried at once after
`make run` instead of being set up by hand first: returns for the manager and ops to review,
ended meetings waiting for the AE's disposition, an SLA breach, an unmatched inbound lead.
Everything goes through the real services, with the demo's own people as actors."""

from __future__ import annotations

import datetime as dt

from apps.accounts.models import Account
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_sla_enforce, lead_cycles_past_sla
from apps.meetings.models import Meeting
from apps.meetings.services import meeting_book
from apps.people.models import Contact, Rep
from apps.routing.models import ReturnReason
from apps.routing.services import lead_route, return_file


def demo_ready_work(*, rng, reps: dict, now: dt.datetime) -> dict[str, int]:
    done = {
        "returns": _returns_pending(rng, reps["sdr"]),
        "awaiting_disposition": _meetings_awaiting_ae(rng, reps["sdr"], now),
        "sla_breaches": _sla_breach(now),
        "unmatched": _unmatched_lead(),
    }
    return done


def schedules_start_from(now: dt.datetime) -> int:
    """Every schedule's next run moved to its next slot after `now`, so the demo's first start
    replays nothing (a schedule created by a migration is due at once: the weekly
    distribution and the daily retrieval would run minutes after the first `make run`)."""
    from croniter import croniter
    from django_q.models import Schedule

    steps = {Schedule.HOURLY: dt.timedelta(hours=1), Schedule.DAILY: dt.timedelta(days=1),
             Schedule.WEEKLY: dt.timedelta(weeks=1), Schedule.MONTHLY: dt.timedelta(days=30),
             Schedule.QUARTERLY: dt.timedelta(days=91), Schedule.YEARLY: dt.timedelta(days=365)}
    moved = 0
    for schedule in Schedule.objects.filter(next_run__lte=now):
        if schedule.schedule_type == Schedule.CRON and schedule.cron:
            schedule.next_run = croniter(schedule.cron, now).get_next(dt.datetime)
        elif schedule.schedule_type == Schedule.MINUTES:
            schedule.next_run = now + dt.timedelta(minutes=schedule.minutes or 1)
        elif schedule.schedule_type in steps:
            schedule.next_run = now + steps[schedule.schedule_type]
        else:
            continue
        schedule.save(update_fields=["next_run"])
        moved += 1
    return moved


def _returns_pending(rng, sdrs: list[Rep]) -> int:
    filed = 0
    reasons = [ReturnReason.NOT_INTERESTED, ReturnReason.BAD_DATA, ReturnReason.OUT_OF_BUSINESS, ReturnReason.NO_ICP_FIT]
    working = [s for s in sdrs if not s.is_out_of_office() and s.ramp_start is None]
    for i, sdr in enumerate(working[:4]):
        account = (Account.objects.filter(owner=sdr).exclude(returns__status="pending")
                   .exclude(meetings__isnull=False).order_by("total_score", "pk").first())
        if account is None:
            continue
        return_file(account=account, rep=sdr, reason=reasons[i % len(reasons)], actor=sdr.user,
                    note="Checked the website and LinkedIn before returning it.")
        filed += 1
    return filed


def _meetings_awaiting_ae(rng, sdrs: list[Rep], now: dt.datetime) -> int:
    """Two meetings per AE of the first pods that ended an hour or two ago (one past its
    disposition deadline), booked days earlier: the AE's home opens on them."""
    booked = 0
    for sdr in [s for s in sdrs if not s.is_out_of_office() and s.ramp_start is None][:4]:
        busy = set(Meeting.objects.values_list("contact_id", flat=True))
        contacts = [c for c in Contact.objects.filter(account__owner=sdr).order_by("pk")[:80] if c.pk not in busy]
        for hours_ago, days_before in ((2, 3), (30, 4)):
            if not contacts:
                break
            contact = contacts.pop(rng.randrange(len(contacts)))
            start = (now - dt.timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
            meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start,
                         booked_at=start - dt.timedelta(days=days_before),
                         notes="Wants to compare with their current spreadsheet process.")
            booked += 1
    return booked


def _sla_breach(now: dt.datetime) -> int:
    """Run the real SLA enforcement once over leads past their maximum, as the five-minute job
    would: it records the breach and re-assigns the lead (managers see the escalation)."""
    ids = lead_cycles_past_sla(now=now)
    for cycle_id in ids:
        lead_cycle_sla_enforce(cycle_id=cycle_id, now=now)
    return len(ids)


def _unmatched_lead() -> int:
    """An inbound lead from a company no account has: routing sends it to the ops queue."""
    contact, _ = Contact.objects.get_or_create(
        email="jordan.reyes@brightwave-analytics.example",
        defaults={"first_name": "Jordan", "last_name": "Reyes", "title": "Head of Revenue Operations",
                  "source": Contact.Source.INBOUND},
    )
    if LeadCycle.objects.filter(contact=contact).exists():
        return 0
    lead_route(contact=contact)
    return 1
