"""What the demo's AEs did with their deals after the qualified meetings (issue 17 item 4 meets
issue 19's alarms): a healthy team, so the manager's home shows a few alarms to try, not a wall.

- A qualified meeting whose opportunity never reached the pipeline stage is closed lost by the
  AE with a loss reason a few days after the meeting (the nurture job then sends the account's
  open leads to nurture, issue 19 item 3). Only the recent ones (meeting within the last
  `iqm_days`) are still pending, plus one or two older ones per team left on purpose (the
  "IQM pending SAO" alarm to try).
- Older pipeline deals are won or lost at a plausible rate; the open ones get AE touches
  (calls, emails, meetings through the real activity service) within the dark window, fewer
  than the "3 calls and 3 emails without progress" of the other dark rule, and the older ones
  have moved on to the proposal stage. One or two per team went dark on purpose ("SAO gone
  dark").

Goes through the real services (opportunity_stage_set, opportunity_update, activity_create)
with past times; deterministic for the seed's `rng`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from apps.accounts.models import Activity, ActivityType
from apps.cadences.services import activity_create
from apps.meetings.models import ClosedLostReason, Meeting
from apps.meetings.selectors import stage_by_code
from apps.meetings.services import opportunity_stage_set, opportunity_update

TOUCHES = (ActivityType.CALL, ActivityType.EMAIL, ActivityType.SOCIAL, ActivityType.MEETING)
LOST_EARLY = ([ClosedLostReason.UNQUALIFIED, ClosedLostReason.TIMING, ClosedLostReason.NO_DECISION,
               ClosedLostReason.COMPETITOR], [35, 35, 20, 10])
LOST_LATE = ([ClosedLostReason.COMPETITOR, ClosedLostReason.PRICE, ClosedLostReason.NO_DECISION,
              ClosedLostReason.TIMING], [35, 25, 25, 15])


def demo_deal_outcomes(*, rng, now: dt.datetime, iqm_days: int, dark_days: int, dark_calls: int = 3,
                       dark_emails: int = 3) -> Counter:
    """Move the demo's open opportunities of qualified meetings on as real AEs do (module
    docstring). Returns counts by what happened."""
    stages = {code: stage_by_code(code) for code in ("proposal", "negotiation", "closed_won", "closed_lost")}
    # Newest first: the ones left pending or dark on purpose are the youngest that qualify.
    meetings = list(Meeting.objects.filter(status=Meeting.Status.COMPLETED_QUALIFIED, opportunity__is_open=True)
                    .select_related("opportunity__owner__user", "sdr", "contact").order_by("-scheduled_end_at", "-pk"))
    teams = sorted({m.sdr.team_id for m in meetings}, key=lambda t: t or 0)
    keep_pending = {team: rng.choice([1, 2]) for team in teams}
    keep_dark = {team: rng.choice([1, 2]) for team in teams}
    done: Counter = Counter()
    seen: set[int] = set()
    for meeting in meetings:
        if meeting.opportunity_id in seen:  # a second qualified meeting joined the account's open deal
            continue
        seen.add(meeting.opportunity_id)
        opp, team = meeting.opportunity, meeting.sdr.team_id
        ae = opp.owner or meeting.ae
        ended = meeting.scheduled_end_at
        if opp.pipeline_at is None:
            if now - ended < dt.timedelta(days=iqm_days):
                done["pending (recent)"] += 1
                continue
            if keep_pending[team]:  # the most recent of the older ones (newest first)
                keep_pending[team] -= 1
                done["pending (left on purpose)"] += 1
                continue
            at = min(now - dt.timedelta(hours=1), ended + dt.timedelta(days=rng.uniform(1.5, max(2, iqm_days - 1))))
            _lose(opp, ae, stages, at, rng.choices(*LOST_EARLY)[0])
            done["lost before the pipeline"] += 1
            continue
        age = now - opp.pipeline_at
        if age > dt.timedelta(days=21):
            roll = rng.random()
            if roll < 0.65:
                at = min(now - dt.timedelta(hours=1), opp.pipeline_at + dt.timedelta(days=rng.uniform(10, age.days)))
                if roll < 0.3:
                    opportunity_update(opportunity=opp, actor=ae.user, amount=opp.amount, close_date=at.date())
                    opportunity_stage_set(opportunity=opp, stage=stages["closed_won"], actor=ae.user, at=at)
                    done["won"] += 1
                else:
                    _lose(opp, ae, stages, at, rng.choices(*LOST_LATE)[0])
                    done["lost in the pipeline"] += 1
                continue
        quiet = not Activity.objects.filter(
            account_id=opp.account_id, automated=False, type__in=TOUCHES, rep_id__in={ae.pk, opp.sourcing_sdr_id} - {None},
            occurred_at__gte=now - dt.timedelta(days=dark_days)).exists()
        if (keep_dark[team] and quiet and age >= dt.timedelta(days=dark_days + 2)):
            keep_dark[team] -= 1
            done["dark (left on purpose)"] += 1
            continue
        done["open, touched"] += 1
        _touch(rng, opp, ae, meeting.contact, stages, now=now, dark_days=dark_days, pair=(dark_calls, dark_emails))
    return done


def _lose(opp, ae, stages, at: dt.datetime, reason: str) -> None:
    opportunity_update(opportunity=opp, actor=ae.user, amount=opp.amount, close_date=at.date())
    opportunity_stage_set(opportunity=opp, stage=stages["closed_lost"], actor=ae.user, at=at,
                          closed_lost_reason=reason, note="Closed by the AE after the follow-up.")


def _touch(rng, opp, ae, contact, stages, *, now: dt.datetime, dark_days: int, pair: tuple[int, int]) -> None:
    """The AE's follow-ups from the pipeline stage on, the last within the dark window; a deal
    older than two weeks moved on to the proposal stage. The AE's calls and emails since the
    stage last moved stay under the "no progress" rule's pair (3 calls and 3 emails); where the
    sourcing SDR's own touches of a busy account already make the pair, the deal moved on a few
    days ago (it is progressing, not dark)."""
    limit = min(pair) - 1
    since = opp.pipeline_at
    proposal_at = since + dt.timedelta(days=rng.uniform(10, 18))
    if proposal_at < now - dt.timedelta(days=2):
        opportunity_stage_set(opportunity=opp, stage=stages["proposal"], actor=ae.user, at=proposal_at)
        since = proposal_at
    sdr_touches = Counter(Activity.objects.filter(
        account_id=opp.account_id, automated=False, rep_id=opp.sourcing_sdr_id, occurred_at__gte=since,
        type__in=(ActivityType.CALL, ActivityType.EMAIL)).values_list("type", flat=True))
    at = opp.pipeline_at + dt.timedelta(days=rng.uniform(1, 4))
    step = max(2.0, dark_days / 2 - 1)
    while at < now:
        options = [k for k in (ActivityType.CALL, ActivityType.EMAIL) if at < since or sdr_touches[k] < limit]
        kind = rng.choice(options) if options and rng.random() < 0.7 else ActivityType.MEETING
        activity_create(type=kind, contact=contact, rep=ae, occurred_at=at, actor=ae.user,
                        subject={"call": "Follow-up call", "email": "Follow-up email",
                                 "meeting": "Demo with the buying group"}[kind])
        if at >= since and kind != ActivityType.MEETING:
            sdr_touches[kind] += 1
        at += dt.timedelta(days=rng.uniform(2, step))
    made = Counter(Activity.objects.filter(
        account_id=opp.account_id, automated=False, rep_id__in={ae.pk, opp.sourcing_sdr_id} - {None},
        occurred_at__gte=since, type__in=(ActivityType.CALL, ActivityType.EMAIL)).values_list("type", flat=True))
    if made[ActivityType.CALL] >= pair[0] and made[ActivityType.EMAIL] >= pair[1]:
        onward = stages["negotiation"] if since > opp.pipeline_at else stages["proposal"]
        opportunity_stage_set(opportunity=opp, stage=onward, actor=ae.user,
                              at=min(now, max(since + dt.timedelta(hours=1), now - dt.timedelta(days=rng.uniform(0.5, 3)))))
