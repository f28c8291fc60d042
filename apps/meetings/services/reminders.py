"""The scheduled notifications: the AE's reminder when a meeting ends, the escalation to the
sales manager when its disposition is overdue, and expiring reschedule attempts."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.leads.models import LeadCycle
from apps.meetings import events, notifications, selectors
from apps.meetings.models import (
    Meeting,
    MeetingNotification,
    RescheduleAttempt,
)

logger = logging.getLogger(__name__)


NOTIFY_BATCH = 200


def _notify_batch(*, meeting_ids, kind: str, now: dt.datetime, ready: Callable[[QuerySet], QuerySet], recipient_for) -> int:
    """Send one `kind` notification per meeting, at most once across repeated and concurrent
    runs; returns how many were sent.

    Each batch of meetings is locked with SKIP LOCKED (a concurrent run, or a disposition in
    progress, holds a row: it is skipped) and re-filtered under the lock: `ready` (a
    MeetingQuerySet condition, which includes "still scheduled") and without a marker.
    Markers are written in the same transaction as the queued mails (sdrops.mail's outbox):
    both commit or neither does, and a mail server that is down delays the mail (the outbox
    retries it) without the next run queueing it again. The unique (meeting, kind)
    constraint is the last guard.
    """
    sent = 0
    ids = sorted(meeting_ids)
    for offset in range(0, len(ids), NOTIFY_BATCH):
        with transaction.atomic():
            meetings = list(
                ready(Meeting.objects.select_for_update(no_key=True, skip_locked=True, of=("self",)))
                .select_related(
                    "contact", "account", "sdr", "ae__user", "ae__team__manager__user", "ae__manager__user"
                )
                .filter(pk__in=ids[offset:offset + NOTIFY_BATCH])
                .exclude(Exists(MeetingNotification.objects.filter(meeting_id=OuterRef("pk"), kind=kind)))
                .order_by("pk")
            )
            # The locking statement's NOT EXISTS ran on its own snapshot: a concurrent run may
            # have committed markers for these rows just before releasing them to us. A new
            # statement sees those commits (READ COMMITTED), so check again under the lock.
            already = set(
                MeetingNotification.objects.filter(meeting_id__in=[m.pk for m in meetings], kind=kind)
                .values_list("meeting_id", flat=True)
            )
            meetings = [meeting for meeting in meetings if meeting.pk not in already]
            if not meetings:
                continue
            recipients = [(meeting, recipient_for(meeting)) for meeting in meetings]
            MeetingNotification.objects.bulk_create([
                MeetingNotification(meeting=meeting, kind=kind, recipient=recipient,
                                    email=recipient.user.email if recipient else "", sent_at=now)
                for meeting, recipient in recipients
            ])
            for meeting, recipient in recipients:
                if recipient is None:
                    logger.warning("Meeting %s: nobody to send the %s to (the AE has no manager).", meeting.pk, kind)
                    continue
                if notifications.deliver(kind, meeting, recipient):
                    sent += 1
                    if kind == MeetingNotification.Kind.ESCALATION:
                        events.meeting_escalated.send(sender=Meeting, meeting=meeting, manager=recipient)
    return sent


def meeting_remind(*, meeting_id: int, now: dt.datetime | None = None) -> bool:
    """The one-off reminder to the AE once the meeting has ended without a disposition."""
    now = now or timezone.now()
    return _remind(meeting_ids=[meeting_id], now=now) == 1


def meeting_escalate(*, meeting_id: int, now: dt.datetime | None = None) -> bool:
    """Tell the AE's sales manager when the disposition is past due (strictly after the due
    time: a disposition at the due time itself is on time)."""
    now = now or timezone.now()
    return _escalate(meeting_ids=[meeting_id], now=now) == 1


def _remind(*, meeting_ids, now: dt.datetime) -> int:
    return _notify_batch(
        meeting_ids=meeting_ids, kind=MeetingNotification.Kind.REMINDER, now=now,
        ready=lambda qs: qs.ended(now), recipient_for=lambda m: m.ae,
    )


def _escalate(*, meeting_ids, now: dt.datetime) -> int:
    return _notify_batch(
        meeting_ids=meeting_ids, kind=MeetingNotification.Kind.ESCALATION, now=now,
        ready=lambda qs: qs.overdue(now), recipient_for=lambda m: selectors.sales_manager_for(rep=m.ae),
    )


def meetings_remind_ended(*, now: dt.datetime | None = None) -> int:
    """The schedule's job: remind the AE of every ended, undispositioned meeting once."""
    now = now or timezone.now()
    return _remind(meeting_ids=selectors.meeting_ids_needing_reminder(now=now), now=now)


def meetings_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """The schedule's job: escalate every overdue disposition to the sales manager once."""
    now = now or timezone.now()
    return _escalate(meeting_ids=selectors.meeting_ids_needing_escalation(now=now), now=now)


def reschedule_attempts_expire(*, now: dt.datetime | None = None) -> int:
    """Close the SDR's reschedule tasks whose window has passed or whose lead was
    dispositioned meanwhile (e.g. nurture / no response at the end of the reschedule
    cadence), so "my reschedules" lists only live work. Safe to run at any time."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = (
            RescheduleAttempt.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=RescheduleAttempt.State.OPEN)
            .filter(Q(due_by__lt=now) | Q(meeting__lead_cycle__state=LeadCycle.State.DISPOSITIONED))
        )
        ids = list(expired.values_list("pk", flat=True))
        RescheduleAttempt.objects.filter(pk__in=ids).update(state=RescheduleAttempt.State.EXPIRED, closed_at=now)
    return len(ids)
