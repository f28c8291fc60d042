"""Writes for market segments: the classification by rules (set-based, safe to run twice) and
the manual override with its reason. Both record every change of an account's effective
segment as a MarketSegmentChange in the same transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.markets.models import AccountMarket, MarketSegment, MarketSegmentChange
from apps.markets.selectors import classification_queryset
from apps.people.actors import actor_user

# One classification at a time (a second run waits, then finds nothing left to change).
CLASSIFY_LOCK = 7_202_202


@dataclass(frozen=True)
class ClassificationResult:
    rows_written: int  # classification rows inserted or whose rule answer changed
    moved: int  # accounts whose effective segment changed (one history row each)

    def message(self) -> str:
        return (f"Market segments classified: {self.moved} account(s) changed segment"
                f" ({self.rows_written} classification row(s) written).")


_CLASSIFY_SQL = """
WITH proposed AS ({proposed}),
old AS (SELECT account_id, segment FROM markets_accountmarket),
up AS (
    INSERT INTO markets_accountmarket
        (account_id, segment, rule_segment, rule_id, classified_at, override_segment, override_reason,
         override_at, override_by_id)
    SELECT p.id, p.new_segment, p.new_segment, p.new_rule_id, %s, '', '', NULL, NULL
      FROM proposed p LEFT JOIN old o ON o.account_id = p.id
     WHERE o.account_id IS NOT NULL OR p.new_segment <> ''
    ON CONFLICT (account_id) DO UPDATE SET
        rule_segment = EXCLUDED.rule_segment,
        rule_id = EXCLUDED.rule_id,
        classified_at = EXCLUDED.classified_at,
        segment = CASE WHEN markets_accountmarket.override_segment <> ''
                       THEN markets_accountmarket.override_segment ELSE EXCLUDED.rule_segment END
     WHERE markets_accountmarket.rule_segment IS DISTINCT FROM EXCLUDED.rule_segment
        OR markets_accountmarket.rule_id IS DISTINCT FROM EXCLUDED.rule_id
    RETURNING account_id, segment, rule_id
),
moved AS (
    INSERT INTO markets_marketsegmentchange
        (account_id, from_segment, to_segment, source, rule_id, rule_name, reason, actor_id, occurred_at)
    SELECT up.account_id, COALESCE(o.segment, ''), up.segment, 'rules', up.rule_id, COALESCE(r.name, ''),
           CASE WHEN up.rule_id IS NULL THEN 'No rule matches' ELSE COALESCE(r.note, '') END, %s, %s
      FROM up
      LEFT JOIN old o ON o.account_id = up.account_id
      LEFT JOIN markets_marketsegmentrule r ON r.id = up.rule_id
     WHERE COALESCE(o.segment, '') <> up.segment
    RETURNING 1
)
SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM moved)
"""


def market_segments_classify(*, actor=None, now: dt.datetime | None = None) -> ClassificationResult:
    """Apply the active rules to every account in one statement: a classification row per
    account some rule matches (or that had one), the rule's answer stored next to any
    override, and a history row for each account whose effective segment moved. Accounts
    with an override keep it. Running it twice changes nothing the second time."""
    now = now or timezone.now()
    proposed_sql, proposed_params = classification_queryset().query.sql_with_params()
    user = actor_user(actor)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLASSIFY_LOCK])
        cursor.execute(_CLASSIFY_SQL.format(proposed=proposed_sql),
                       [*proposed_params, now, getattr(user, "pk", None), now])
        written, moved = cursor.fetchone()
    return ClassificationResult(rows_written=written, moved=moved)


def account_market_override(*, account_ids, segment: str, reason: str, actor) -> int:
    """Set (or, with segment "", remove) the manual override of these accounts' market segment.
    The reason is required either way; who and why are kept on the row and in the history.
    Removing an override puts back what the rules said. Returns how many accounts changed."""
    reason = (reason or "").strip()
    if segment and segment not in MarketSegment.values:
        raise ValidationError({"segment": f"Unknown market segment “{segment}”."})
    if not reason:
        raise ValidationError({"reason": "Say why: the override is shown with its reason to everyone who reads the segment."})
    user = actor_user(actor)
    now = timezone.now()
    ids = sorted({int(pk) for pk in account_ids})
    with transaction.atomic():
        existing = set(Account.objects.filter(pk__in=ids).values_list("pk", flat=True))
        AccountMarket.objects.bulk_create([AccountMarket(account_id=pk) for pk in sorted(existing)],
                                          ignore_conflicts=True)
        rows = list(AccountMarket.objects.select_for_update().filter(account_id__in=existing).order_by("account_id"))
        changes = []
        for row in rows:
            before = row.segment
            if segment:
                row.override_segment, row.override_reason = segment, reason[:300]
                row.override_by, row.override_at = user, now
                row.segment = segment
                source = MarketSegmentChange.Source.OVERRIDE
            else:
                if not row.override_segment:
                    continue
                row.override_segment, row.override_reason, row.override_by, row.override_at = "", "", None, None
                row.segment = row.rule_segment
                source = MarketSegmentChange.Source.OVERRIDE_CLEARED
            row.save(update_fields=["segment", "override_segment", "override_reason", "override_by", "override_at"])
            changes.append(MarketSegmentChange(account_id=row.account_id, from_segment=before, to_segment=row.segment,
                                               source=source, reason=reason[:300], actor=user, occurred_at=now))
        MarketSegmentChange.objects.bulk_create(changes)
    return len(changes)
