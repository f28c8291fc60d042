"""Demo enrolments for `seed_demo`: a few outbound leads per SDR in the default cadences,
part-way through, so the today list, the lead page and the morning email have something to
show. Goes through the real services (enrolment_create, activity_create)."""

from __future__ import annotations

import datetime as dt

from apps.accounts.models import Account
from apps.cadences.models import Cadence
from apps.cadences.services import activity_create, enrolment_create, enrolment_step_skip
from apps.leads.models import LeadCycle
from apps.people.models import Contact

CHANNEL_ACTIVITY = {"call": "call", "email": "email", "social": "social"}


def demo_enrolments(*, rng, sdrs, now: dt.datetime, per_rep: int = 4) -> int:
    cadence = Cadence.objects.filter(name="Outbound target account").first()
    if cadence is None:
        return 0
    enrolled = 0
    busy = set(LeadCycle.objects.open().values_list("contact_id", flat=True))
    for sdr in sdrs:
        if sdr.is_out_of_office() or sdr.ramp_factor() == 0:
            continue
        accounts = Account.objects.filter(owner=sdr).values_list("pk", flat=True)
        candidates = [c for c in Contact.objects.filter(account_id__in=accounts).order_by("pk") if c.pk not in busy]
        for contact in rng.sample(candidates, min(per_rep, len(candidates))):
            start = now - dt.timedelta(days=rng.uniform(0.5, 12))
            enrolment = enrolment_create(contact=contact, cadence=cadence, rep=sdr, actor=sdr.user, at=start)
            for step in enrolment.steps.order_by("position"):
                # Most due steps get done within hours; some are left overdue for the today list.
                done_at = step.due_at + dt.timedelta(hours=rng.uniform(0.2, 6))
                if done_at > now or rng.random() < 0.15:
                    break
                if step.channel in CHANNEL_ACTIVITY:
                    activity_create(rep=sdr, contact=contact, type=CHANNEL_ACTIVITY[step.channel], occurred_at=done_at,
                                 subject=f"{cadence.name}: step {step.position}", actor=sdr.user)
                else:
                    enrolment_step_skip(step=step, actor=sdr.user, at=done_at)
            enrolled += 1
    return enrolled
