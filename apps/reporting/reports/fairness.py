"""The fairness statement (issue 18): "why did I get this lead — why didn't I", answered from
the stored routing decisions, credits and ownership events, never argued. One row per SDR in
the viewer's scope (an SDR sees only their own; a manager their team side by side), the team
the SDR belongs to as the comparison. A fixed number of queries for any number of reps."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count

from apps.accounts.models import Account, OwnershipEvent, OwnershipReason
from apps.people.models import Rep
from apps.reporting import fairness_reads as kept
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.rollup_reads import history_mode
from apps.reporting.tables import Column, Result, Table, rate
from apps.routing.models import RoutingCredit, RoutingDecision

SKIPS = (("out_of_office", "out of office"), ("at_capacity", "at capacity"), ("unramped", "ramp"),
         ("inactive", "inactive"))
GAINED = (OwnershipReason.DISTRIBUTION, OwnershipReason.SIGNAL, OwnershipReason.SWAP, OwnershipReason.RETURN,
          OwnershipReason.SLA_REASSIGNMENT)
LOST = (OwnershipReason.RETRIEVAL, OwnershipReason.RETURN, OwnershipReason.SLA_REASSIGNMENT)
SKIP_LIST_LIMIT = 200

# {window}: the decided_at condition (the whole window here; the rollup path runs it over the
# window's partial days, apps.reporting.fairness_reads, through routingdecision_skips_by_time,
# whose predicate is the NOT (…) condition).
SKIPS_SQL = """
SELECT (e->>'rep_id')::bigint AS rep_id, e->>'reason' AS reason, count(*)
FROM routing_routingdecision d CROSS JOIN LATERAL jsonb_array_elements(d.skipped) AS e
WHERE {window} AND NOT (d.skipped = '[]'::jsonb) AND d.skipped @> ANY(%(containment)s::jsonb[])
  AND (e->>'rep_id')::bigint = ANY(%(ids)s)
GROUP BY 1, 2
"""

# Newest first through the partial index of decisions that skipped someone (routingdecision_skips_by_time,
# the NOT (…) condition is its predicate), stopping at the list's length.
SKIP_LIST_SQL = """
SELECT d.decided_at, (e->>'rep_id')::bigint, e->>'reason', coalesce(a.name, ''), coalesce(r.owner_name, '')
FROM routing_routingdecision d CROSS JOIN LATERAL jsonb_array_elements(d.skipped) AS e
LEFT JOIN accounts_account a ON a.id = d.account_id LEFT JOIN people_rep r ON r.id = d.rep_id
WHERE d.decided_at >= %(start)s AND d.decided_at < %(end)s AND NOT (d.skipped = '[]'::jsonb)
  AND d.skipped @> ANY(%(containment)s::jsonb[]) AND (e->>'rep_id')::bigint = ANY(%(ids)s)
ORDER BY d.decided_at DESC, d.id DESC LIMIT %(limit)s
"""


def _containment(ids) -> list[str]:
    # One containment value per rep: the GIN index on skipped answers "decisions that skipped any of them".
    return [f'[{{"rep_id": {int(pk)}}}]' for pk in ids]


def fairness_rows(*, scope) -> tuple[list[dict], list[dict]]:
    """(per-rep statement rows, the newest skips of those reps). 8 queries."""
    roster = s.roster(scope=scope)
    ids = [r["pk"] for r in roster]
    # The comparison: every active SDR of the teams the statement's reps belong to.
    team_reps = list(Rep.objects.filter(role=Rep.Role.SDR, active=True, team__in=Rep.objects.filter(pk__in=ids)
                                        .values("team_id")).values("pk", "team_id", "routing_weight"))
    team_ids = sorted({r["pk"] for r in team_reps} | set(ids))
    weights = {r["pk"]: float(r["routing_weight"]) for r in team_reps}
    weights.update({r["pk"]: weights.get(r["pk"], 1.0) for r in roster})
    team_of = {r["pk"]: r["team_id"] for r in team_reps}
    if history_mode():
        turns = dict(RoutingDecision.objects.filter(decided_at__gte=scope.start, decided_at__lt=scope.end,
                                                    outcome=RoutingDecision.Outcome.RULE, rep_id__in=team_ids)
                     .order_by().values("rep_id").annotate(n=Count("pk")).values_list("rep_id", "n"))
    else:
        turns = kept.turns_by_rep(scope=scope, rep_ids=team_ids, outcome=RoutingDecision.Outcome.RULE)
    window = {"start": scope.start, "end": scope.end, "containment": _containment(ids), "ids": ids}
    with connection.cursor() as cursor:
        if history_mode():
            cursor.execute(SKIPS_SQL.format(window="d.decided_at >= %(start)s AND d.decided_at < %(end)s"), window)
            skipped = {(rep_id, reason): n for rep_id, reason, n in cursor.fetchall()}
        else:
            skipped = kept.skips_by_rep(scope=scope, rep_ids=ids, raw_sql=SKIPS_SQL, containment=window["containment"])
        cursor.execute(SKIP_LIST_SQL, {**window, "limit": SKIP_LIST_LIMIT})
        skip_list = cursor.fetchall()
    credits = dict(RoutingCredit.objects.filter(rep_id__in=ids, created_at__gte=scope.start, created_at__lt=scope.end)
                   .order_by().values("rep_id").annotate(n=Count("pk")).values_list("rep_id", "n"))
    events = OwnershipEvent.objects.filter(occurred_at__gte=scope.start, occurred_at__lt=scope.end)
    gained = {(r, why): n for r, why, n in events.filter(to_rep_id__in=ids).order_by()
              .values("to_rep_id", "reason").annotate(n=Count("pk")).values_list("to_rep_id", "reason", "n")}
    lost = {(r, why): n for r, why, n in events.filter(from_rep_id__in=ids).order_by()
            .values("from_rep_id", "reason").annotate(n=Count("pk")).values_list("from_rep_id", "reason", "n")}
    tiers: dict[int, dict[str, int]] = {}
    book_tiers = (Account.objects.filter(owner_id__in=team_ids).order_by().values("owner_id", "tier")
                  .annotate(n=Count("pk")).values_list("owner_id", "tier", "n")) if history_mode() \
        else kept.tiers_by_owner(owner_ids=team_ids)
    for owner, tier, n in book_tiers:
        tiers.setdefault(owner, {})[tier or "-"] = n
    names = {r["pk"]: r["owner_name"] for r in roster}
    rows = []
    for rep in roster:
        pk = rep["pk"]
        mates = [m for m in team_ids if team_of.get(m) == team_of.get(pk)] or [pk]
        team_turns = sum(turns.get(m, 0) for m in mates)
        team_weight = sum(weights.get(m, 1.0) for m in mates)
        book = tiers.get(pk, {})
        team_book: dict[str, int] = {}
        for m in mates:
            for tier, n in tiers.get(m, {}).items():
                team_book[tier] = team_book.get(tier, 0) + n
        row = {
            "rep_id": pk, "rep": rep["owner_name"], "weight": weights.get(pk, 1.0),
            "turns": turns.get(pk, 0), "team_turns": team_turns,
            "share": rate(turns.get(pk, 0), team_turns),
            "fair_share": (weights.get(pk, 1.0) / team_weight) if team_weight else None,
            "credits": credits.get(pk, 0),
            "gained": sum(gained.get((pk, why), 0) for why in GAINED),
            "lost": sum(lost.get((pk, why), 0) for why in LOST),
        }
        row["expected_turns"] = (row["fair_share"] or 0) * team_turns
        for key, _label in SKIPS:
            row[f"skip_{key}"] = skipped.get((pk, key), 0)
        for why in ("distribution", "signal", "swap", "return", "sla_reassignment"):
            row[f"gained_{why}"] = gained.get((pk, why), 0)
        for why in ("retrieval", "return", "sla_reassignment"):
            row[f"lost_{why}"] = lost.get((pk, why), 0)
        for tier in ("A", "B", "C"):
            row[f"tier_{tier}"] = rate(book.get(tier, 0), sum(book.values()))
            row[f"team_tier_{tier}"] = rate(team_book.get(tier, 0), sum(team_book.values()))
        rows.append(row)
    skips = [{"decided_at": at, "rep": names.get(rep_id, ""), "reason": dict(SKIPS).get(reason, (reason or "").replace("_", " ")),
              "account": account, "went_to": went_to or "nobody (ops queue)"} for at, rep_id, reason, account, went_to in skip_list]
    return rows, skips


@register
class Fairness(Report):
    slug = "fairness"
    title = "Fairness statement"
    description = ("Per SDR over the period: turns against their weight and the team's, every lead they were skipped for "
                   "and why, credits, accounts gained and lost, and their book's tier mix against the team's.")
    filters = ("date", "team", "rep")

    def compute(self, *, scope, params) -> Result:
        rows, skips = fairness_rows(scope=scope)
        columns = [
            Column("rep", "SDR", "text"),
            Column("weight", "Weight", "num", "The rep's routing weight (People → Reps; the one weight every rotation uses)."),
            Column("turns", "Turns", "int", "Leads and accounts a routing rule gave the rep in the period (stored routing decisions)."),
            Column("expected_turns", "Fair turns", "num", "The team's turns × weight ÷ the team's weights (the team: the active SDRs of the rep's team)."),
            Column("share", "Share", "pct", "Turns ÷ the team's turns."),
            Column("fair_share", "Fair share", "pct", "Weight ÷ the team's weights."),
            *[Column(f"skip_{key}", f"Skipped: {label}", "int", f"Routing decisions in the period that passed the rep over as {label}.")
              for key, label in SKIPS],
            Column("credits", "Credits", "int", "Credits received in the period (returns and no-shows not the rep's doing)."),
            Column("gained_distribution", "Gained: distribution", "int", "Ownership events giving the rep an account, by reason."),
            Column("gained_signal", "Gained: routed", "int", "Accounts routed to the rep (a lead or a timing signal)."),
            Column("gained_swap", "Gained: swap", "int", "Replacements for returned accounts."),
            Column("gained_return", "Gained: reassigned", "int", "Returns reassigned to the rep."),
            Column("lost_retrieval", "Lost: retrieval", "int", "Accounts retrieved for inactivity."),
            Column("lost_return", "Lost: return", "int", "Accounts gone on an approved return."),
            Column("lost_sla_reassignment", "Lost: SLA", "int", "Accounts re-assigned for a lapsed SLA or leave."),
            *[Column(f"tier_{t}", f"Book tier {t}", "pct", f"Share of the rep's book now in tier {t}.", 0) for t in "ABC"],
            *[Column(f"team_tier_{t}", f"Team tier {t}", "pct", f"Share of the team's books now in tier {t}.", 0) for t in "ABC"],
        ]
        skip_columns = [Column("decided_at", "When", "datetime"), Column("rep", "SDR", "text"),
                        Column("reason", "Skipped as", "text", "The reason the routing decision recorded."),
                        Column("account", "Account", "text"), Column("went_to", "Went to", "text", "Who the decision picked.")]
        return Result(
            tables=[Table("statement", "Fairness statement", columns, rows),
                    Table("skips", f"Skipped for (newest {SKIP_LIST_LIMIT})", skip_columns, skips)],
            summary=[("SDRs", str(len(rows))), ("Turns", str(sum(r["turns"] for r in rows)))],
            notes=["From the stored routing decisions, credits and ownership events of the period; an SDR sees only "
                   "their own statement, a manager their teams'."],
        )
