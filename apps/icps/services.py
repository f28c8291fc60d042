"""Writes for ICPs, signals, scores and research.

Rescoring is one SQL statement over the accounts in scope (see apps.icps.scoring). It runs
  * for one account, in the same transaction, from the services that change its signals
    (`signal_record`, `signal_delete`, the signal import) and from `account_changed`, which
    the account admin and imports call after they save an account;
  * for all accounts, as a django-q2 job queued after commit, when an ICP, a signal type or
    the thresholds change (`rescore_all_later`);
  * nightly by the schedule "icps.nightly_rescore" (apps/icps/schedules.py), so signals that
    outlive their type's lifetime stop counting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Account, Activity, ActivityType
from apps.cadences.services import activity_create
from apps.icps.events import signals_recorded
from apps.icps.models import ICP, ICPChange, ResearchCategory, ResearchItem, Rule, Signal, SignalType
from apps.icps.scoring import Params, Thresholds, active_icp_specs, compile_specs, quadrant_sql, tier_sql
from apps.people.actors import actor_user


@dataclass(frozen=True)
class RescoreResult:
    accounts_written: int
    history_rows: int


def accounts_rescore(*, account_ids: list[int] | None = None, now: dt.datetime | None = None) -> RescoreResult:
    """Rescore the given accounts (or all) against the active ICPs in one statement.

    Writes only accounts whose score, tier, quadrant or match changed, plus accounts never
    scored and, when ids are given, those accounts (so `scored_at` says they were looked at).
    Tier or quadrant changes add a ScoreHistory row in the same statement.
    """
    now = now or timezone.now()
    if account_ids is not None:
        account_ids = sorted({int(pk) for pk in account_ids})
        if not account_ids:
            return RescoreResult(0, 0)
    p = Params()
    # The stored scores ride along with the computed ones, so the accounts table is read
    # once: compute, keep the rows that changed, update those through the primary key.
    stored = {"old_icp": "a.matched_icp_id", "old_fit": "a.fit_score", "old_opp": "a.opportunity_score",
              "old_rdy": "a.readiness_score", "old_tier": "a.tier", "old_quadrant": "a.quadrant",
              "never_scored": "a.scored_at IS NULL"}
    compiled = compile_specs(
        active_icp_specs(), p=p, now=now, today=timezone.localdate(now), name="c", account_ids=account_ids,
        carry=stored,
    )
    thresholds = Thresholds.load()
    stamp_all = "TRUE" if account_ids is not None else "FALSE"
    sql = f"""
        WITH {compiled.ctes},
        fresh AS (
            SELECT b.account_id AS id, b.old_icp, b.old_fit, b.old_opp, b.old_rdy, b.old_tier, b.old_quadrant,
                   b.never_scored, b.icp_id, b.fit, b.opp, b.rdy, b.total,
                   {tier_sql("b", thresholds, p)} AS tier, {quadrant_sql("b", thresholds, p)} AS quadrant
              FROM c_best b
        ),
        changed AS MATERIALIZED (
            SELECT * FROM fresh f
             WHERE {stamp_all} OR f.never_scored
                OR f.old_icp IS DISTINCT FROM f.icp_id OR f.old_fit <> f.fit OR f.old_opp <> f.opp
                OR f.old_rdy <> f.rdy OR f.old_tier <> f.tier OR f.old_quadrant <> f.quadrant
        ),
        written AS (
            UPDATE accounts_account a
               SET matched_icp_id = f.icp_id, fit_score = f.fit, opportunity_score = f.opp,
                   readiness_score = f.rdy, total_score = f.total, tier = f.tier, quadrant = f.quadrant,
                   scored_at = {p(now)}
              FROM changed f
             WHERE a.id = f.id
         RETURNING a.id, f.old_tier, f.old_quadrant, f.icp_id, f.fit, f.opp, f.rdy, f.total, f.tier, f.quadrant
        ),
        history AS (
            INSERT INTO icps_scorehistory (account_id, changed_at, icp_id, old_tier, new_tier, old_quadrant,
                                           new_quadrant, fit_score, opportunity_score, readiness_score, total_score)
            SELECT id, {p(now)}, icp_id, old_tier, tier, old_quadrant, quadrant, fit, opp, rdy, total
              FROM written WHERE old_tier <> tier OR old_quadrant <> quadrant
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM history)
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, p.values)
        written, history = cursor.fetchone()
    return RescoreResult(written, history)


def account_changed(*, account: Account) -> RescoreResult:
    """Call after saving an account's firmographics (admin, import, API): rescores it now."""
    return accounts_rescore(account_ids=[account.pk])


# Above this many accounts a bulk writer queues the whole rescoring instead of a list of ids:
# the task's argument stays small, and a full pass writes only accounts that changed.
RESCORE_IDS_LIMIT = 5000


def accounts_rescore_later(*, account_ids, reason: str) -> None:
    """Queue a rescoring of accounts a bulk writer (an import) created or changed, once the
    current transaction commits; nothing is queued if it rolls back."""
    from django_q.tasks import async_task

    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return
    if len(ids) > RESCORE_IDS_LIMIT:
        rescore_all_later(reason=reason)
        return
    transaction.on_commit(
        lambda: async_task("apps.icps.tasks.rescore_accounts", ids, task_name=f"rescore {len(ids)}: {reason}"[:100])
    )


def rescore_all_later(*, reason: str) -> None:
    """Queue a rescoring of every account once the current transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task("apps.icps.tasks.rescore_all_accounts", reason, task_name=f"rescore all: {reason}"[:100])
    )


# --- signals -------------------------------------------------------------------------


def signal_clean(
    *, type: SignalType, value: Decimal | None = None, date: dt.date | None = None
) -> None:
    if type.kind == SignalType.Kind.DATED and date is None:
        raise ValidationError({"date": f"A {type.name} signal needs a date."})
    if type.kind == SignalType.Kind.NUMERIC and value is None:
        raise ValidationError({"value": f"A {type.name} signal needs a value."})


def _signals_recorded(account_ids) -> None:
    ids = sorted({int(pk) for pk in account_ids})
    if ids:
        # Routing receives it (after commit) to route pool accounts a timing signal put in market.
        signals_recorded.send(sender=Signal, account_ids=ids)


def signal_record(
    *,
    account: Account,
    type: SignalType,
    occurred_at: dt.datetime | None = None,
    value: Decimal | None = None,
    date: dt.date | None = None,
    source: str = "",
    note: str = "",
    actor=None,
) -> Signal:
    """Record a signal and rescore its account in the same transaction."""
    signal_clean(type=type, value=value, date=date)
    with transaction.atomic():
        signal = Signal(
            account=account, type=type, occurred_at=occurred_at or timezone.now(), value=value, date=date,
            source=source, note=note, created_by=actor_user(actor),
        )
        signal.full_clean()
        signal.save()
        accounts_rescore(account_ids=[account.pk])
        _signals_recorded([account.pk])
    return signal


def signal_update(*, signal: Signal, actor=None) -> Signal:
    """Save an edited signal (admin) and rescore its account (and the previous one if it moved)."""
    signal_clean(type=signal.type, value=signal.value, date=signal.date)
    with transaction.atomic():
        previous = Signal.objects.filter(pk=signal.pk).values_list("account_id", flat=True).first()
        signal.full_clean()
        signal.save()
        accounts_rescore(account_ids=[signal.account_id] + ([previous] if previous else []))
    return signal


def signal_delete(*, signal: Signal, actor=None) -> None:
    with transaction.atomic():
        account_id = signal.account_id
        signal.delete()
        accounts_rescore(account_ids=[account_id])


def signals_bulk_record(*, signals: list[Signal]) -> int:
    """Insert many signals (duplicates of existing ones are skipped) and rescore their accounts."""
    with transaction.atomic():
        before = Signal.objects.count()
        Signal.objects.bulk_create(signals, batch_size=5000, ignore_conflicts=True)
        created = Signal.objects.count() - before
        account_ids = [s.account_id for s in signals]
        accounts_rescore(account_ids=account_ids)
        if created:
            _signals_recorded(account_ids)
    return created


# --- ICP changes ---------------------------------------------------------------------


def _rule_snapshot(rule: Rule) -> dict:
    return {
        "id": rule.pk, "category": rule.category, "condition": rule.condition, "values": list(rule.values or []),
        "minimum": None if rule.minimum is None else str(rule.minimum),
        "maximum": None if rule.maximum is None else str(rule.maximum),
        "signal_type": rule.signal_type_id, "days": rule.days, "points": rule.points, "text": rule.describe(),
    }


def icp_snapshot(*, icp_id: int | None) -> dict | None:
    icp = ICP.objects.filter(pk=icp_id).first() if icp_id else None
    if icp is None:
        return None
    return {
        "fields": {"name": icp.name, "active": icp.active, "description": icp.description},
        "rules": [_rule_snapshot(r) for r in icp.rules.select_related("signal_type").order_by("pk")],
    }


def icp_change_record(*, icp: ICP, before: dict | None, actor=None, deleted: bool = False) -> ICPChange | None:
    """Record who changed what on an ICP (compared with `before`, from icp_snapshot) and queue
    the rescoring of all accounts. Returns None when nothing changed."""
    after = None if deleted else icp_snapshot(icp_id=icp.pk)
    if before == after:
        return None
    changes: dict = {"fields": {}, "rules_added": [], "rules_removed": [], "rules_changed": []}
    old_fields = (before or {}).get("fields", {})
    new_fields = (after or {}).get("fields", {})
    for name in sorted(set(old_fields) | set(new_fields)):
        if old_fields.get(name) != new_fields.get(name):
            changes["fields"][name] = [old_fields.get(name), new_fields.get(name)]
    old_rules = {r["id"]: r for r in (before or {}).get("rules", [])}
    new_rules = {r["id"]: r for r in (after or {}).get("rules", [])}
    changes["rules_added"] = [new_rules[i]["text"] + f" (+{new_rules[i]['points']})" for i in new_rules if i not in old_rules]
    changes["rules_removed"] = [old_rules[i]["text"] + f" (+{old_rules[i]['points']})" for i in old_rules if i not in new_rules]
    changes["rules_changed"] = [
        [old_rules[i]["text"] + f" (+{old_rules[i]['points']})", new_rules[i]["text"] + f" (+{new_rules[i]['points']})"]
        for i in new_rules if i in old_rules and old_rules[i] != new_rules[i]
    ]
    action = "delete" if deleted else "create" if before is None else "update"
    with transaction.atomic():
        change = ICPChange.objects.create(
            icp=None if deleted else icp, icp_name=icp.name, actor=actor_user(actor),
            action=action, changes=changes,
        )
        rescore_all_later(reason=f"ICP {icp.name} {change.get_action_display().lower()}")
    return change


# --- research ------------------------------------------------------------------------


def intelligence_run_log(
    *, account: Account, categories: list[ResearchCategory], rep=None, actor=None, subject: str = ""
) -> Activity:
    """Log an account-level intelligence run (the research that preps outreach) and tick the
    checklist categories it covered, in one transaction."""
    if not categories:
        raise ValidationError({"categories": "Tick at least one research category this run covered."})
    with transaction.atomic():
        activity = activity_create(
            type=ActivityType.INTELLIGENCE_RUN, account=account, rep=rep, actor=actor,
            subject=subject or "Intelligence run: " + ", ".join(c.name for c in categories),
        )
        research_items_tick(account=account, categories=categories, actor=actor, activity=activity)
    return activity


def research_items_tick(
    *, account: Account, categories: list[ResearchCategory], actor=None, activity: Activity | None = None
) -> list[ResearchItem]:
    """Tick research categories on an account; ticking one already ticked changes nothing.
    An activity, when given, must be the account's intelligence run that did the research."""
    if activity is not None and (activity.type != ActivityType.INTELLIGENCE_RUN or activity.account_id != account.pk):
        raise ValidationError("Only an intelligence run logged on this account can tick its research checklist.")
    with transaction.atomic():
        items = ResearchItem.objects.bulk_create(
            [
                ResearchItem(
                    account=account, category=category, activity=activity,
                    done_by=actor_user(actor),
                )
                for category in categories
            ],
            ignore_conflicts=True,
        )
    return items
