"""How long the reminder and escalation jobs take on a large meeting table.

Builds 20,000 meetings (2,000 ended without a disposition, half of those past due) inside a
transaction that is rolled back, so the bench database keeps nothing.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from apps.accounts.models import Account
from apps.connect.models import OutboundEmail
from apps.meetings import selectors, services
from apps.meetings.defaults import meetings_defaults_ensure
from apps.meetings.models import Meeting
from apps.people.models import Contact, Rep, Team
from apps.people.tests.factories import RepFactory

TOTAL = 20_000
ENDED = 2_000


def _build(now: dt.datetime):

    meetings_defaults_ensure()
    team = Team.objects.create(name="bench-meetings-team")
    manager = RepFactory(role=Rep.Role.MANAGER, team=team, owner_name="bench-meetings-manager")
    team.manager = manager
    team.save()
    sdr = RepFactory(role=Rep.Role.SDR, team=team, owner_name="bench-meetings-sdr")
    aes = [RepFactory(role=Rep.Role.AE, team=team, owner_name=f"bench-meetings-ae-{i}") for i in range(10)]
    accounts = Account.objects.bulk_create(
        Account(name=f"Bench meeting account {i}", domain=f"bench-meetings-{i}.example") for i in range(TOTAL // 10)
    )
    contacts = Contact.objects.bulk_create(
        Contact(email=f"lead{i}@bench-meetings-{i % len(accounts)}.example", account=accounts[i % len(accounts)])
        for i in range(TOTAL // 2)
    )
    meetings = []
    for i in range(TOTAL):
        if i < ENDED // 2:
            start = now - dt.timedelta(hours=30)  # ended and past due
        elif i < ENDED:
            start = now - dt.timedelta(hours=2)  # ended, not due yet
        else:
            start = now + dt.timedelta(days=1 + i % 30)  # to come
        end = start + dt.timedelta(minutes=30)
        contact = contacts[i % len(contacts)]
        meetings.append(Meeting(
            contact=contact, account_id=contact.account_id, sdr=sdr, ae=aes[i % len(aes)], scheduled_at=start,
            scheduled_end_at=end, disposition_due_at=end + dt.timedelta(hours=24),
        ))
    Meeting.objects.bulk_create(meetings, batch_size=5000)


def bench_reminders_and_escalations(*, stdout, options) -> str:

    rows = []
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
        now = timezone.now()
        _build(now)

        def timed(label, function):
            started = time.perf_counter()
            result = function()
            elapsed = time.perf_counter() - started
            rows.append((label, result, elapsed))
            stdout.write(f"{label}: {result} in {elapsed:.2f} s")

        timed("find meetings needing a reminder", lambda: len(selectors.meeting_ids_needing_reminder(now=now)))
        timed("reminder job, first run (sends)", lambda: services.meetings_remind_ended(now=now))
        timed("reminder job, second run (nothing to send)", lambda: services.meetings_remind_ended(now=now))
        timed("escalation job, first run (sends)", lambda: services.meetings_escalate_overdue(now=now))
        timed("escalation job, second run (nothing to send)", lambda: services.meetings_escalate_overdue(now=now))
        # The jobs queue their mails in the mail outbox (sent after commit, which this rolled-back run never does).
        sent = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.NOTIFICATION, created_at__gte=now).count()
        transaction.set_rollback(True)
    lines = [
        "## Meetings: reminder and escalation jobs",
        "",
        f"{TOTAL:,} meetings, {ENDED:,} ended without a disposition ({ENDED // 2:,} past due); "
        f"{sent:,} emails queued in the mail outbox in all.",
        "",
        "| step | meetings | seconds | per meeting (ms) |",
        "|---|---:|---:|---:|",
    ]
    for label, count, elapsed in rows:
        per = f"{elapsed / count * 1000:.2f}" if count else "–"
        lines.append(f"| {label} | {count:,} | {elapsed:.2f} | {per} |")
    return "\n".join(lines)


BENCHMARKS = [bench_reminders_and_escalations]
