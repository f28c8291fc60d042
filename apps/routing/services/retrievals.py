"""Retrievals and rest periods: idle accounts back to the pool with a rest, and rests that end."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.icps.models import SignalType
from apps.icps.services import signal_record
from apps.people.models import Rep
from apps.routing import selectors
from apps.routing.models import (
    AccountRest,
    ReturnOutcome,
    ReturnReason,
    ReturnRequest,
)
from sdrops import mail

logger = logging.getLogger(__name__)


@dataclass
class Retrieved:
    account_id: int
    account: str
    rep_id: int
    last_worked_at: dt.datetime | None


def retrieval_run(*, actor=None, dry_run: bool = False, now: dt.datetime | None = None) -> list[Retrieved]:
    """Send owned accounts with no meaningful activity for the inactivity days back to the
    pool (reason retrieval), rest them, and mail each rep one digest. Rows another
    transaction holds are skipped (next run takes them); a second run finds nothing."""
    now = now or timezone.now()
    roe = selectors.roe_get()
    qs = selectors.retrieval_candidates(now=now, roe=roe)
    if dry_run:
        return [Retrieved(pk, name, owner, last) for pk, name, owner, last in qs.values_list("pk", "name", "owner_id", "last_worked_at")]
    with transaction.atomic():
        rows = [
            Retrieved(pk, name, owner, last)
            for pk, name, owner, last in qs.select_for_update(no_key=True, skip_locked=True, of=("self",)).values_list(
                "pk", "name", "owner_id", "last_worked_at"
            )
        ]
        if not rows:
            return []
        note = f"No meaningful activity for {roe.inactivity_days} days"
        account_owners_set(changes=[(r.account_id, None) for r in rows], reason=OwnershipReason.RETRIEVAL,
                           actor=actor, note=note, occurred_at=now)
        until = now + dt.timedelta(days=selectors.rest_days_for(roe=roe, reason=ReturnReason.RETRIEVAL))
        AccountRest.objects.bulk_create(
            [AccountRest(account_id=r.account_id, kind=AccountRest.Kind.REST, until=until, reason=ReturnReason.RETRIEVAL,
                         created_at=now) for r in rows],
            update_conflicts=True, unique_fields=["account"], update_fields=["kind", "until", "reason", "signal_on",
                                                                              "signal_added_at", "created_at"],
            batch_size=5000,
        )
        ReturnRequest.objects.bulk_create(
            [ReturnRequest(account_id=r.account_id, account_name=r.account, rep_id=r.rep_id, reason=ReturnReason.RETRIEVAL,
                           note=note, status=ReturnRequest.Status.APPROVED, outcome=ReturnOutcome.REST,
                           rest_days=selectors.rest_days_for(roe=roe, reason=ReturnReason.RETRIEVAL),
                           reviewed_at=now, created_at=now) for r in rows],
            batch_size=5000,
        )
        by_rep: dict[int, list[Retrieved]] = defaultdict(list)
        for row in rows:
            by_rep[row.rep_id].append(row)
        for rep in Rep.objects.filter(pk__in=list(by_rep)).select_related("user"):
            retrieved = [
                {"account": r.account, "last_worked": f"{r.last_worked_at:%Y-%m-%d}" if r.last_worked_at else ""}
                for r in sorted(by_rep[rep.pk], key=lambda r: r.account)
            ]
            mail.send_after_commit(to=[rep.user.email], template="routing/email/retrieval_digest", context={
                "rep": rep, "retrieved": retrieved, "inactivity_days": roe.inactivity_days,
                "rest_days": selectors.rest_days_for(roe=roe, reason=ReturnReason.RETRIEVAL),
            })
    return rows


def rest_periods_process(*, now: dt.datetime | None = None) -> int:
    """Ended rests leave the table; a get-back-to-me date that has come adds its readiness
    signal (once). Returns how many signals were added."""
    now = now or timezone.now()
    added = 0
    with transaction.atomic():
        due = list(
            AccountRest.objects.select_for_update(skip_locked=True)
            .filter(signal_on__lte=selectors.today(now), signal_added_at__isnull=True)
            .order_by("pk")
        )
        for rest in due:
            if _readiness_signal_add(account_id=rest.account_id, on=rest.signal_on, now=now):
                added += 1
            rest.signal_added_at = now
            rest.save(update_fields=["signal_added_at"])
        AccountRest.objects.filter(kind=AccountRest.Kind.REST, until__lte=now).filter(
            Q(signal_on__isnull=True) | Q(signal_added_at__isnull=False)
        ).delete()
    return added


def _readiness_signal_add(*, account_id: int, on: dt.date, now: dt.datetime) -> bool:
    """A "get back to me" date reached is a timing signal: recorded through the scoring
    app's service, which rescores the account (so its readiness rises on its own)."""

    signal_type = SignalType.objects.filter(key="get_back_to_me_date").first()
    account = Account.objects.filter(pk=account_id).first()
    if signal_type is None or account is None:
        logger.warning("No get-back-to-me signal added for account %s: signal type or account missing", account_id)
        return False
    signal_record(account=account, type=signal_type, occurred_at=now, date=on, source="return",
                  note="Get back to me date reached")
    return True
