"""The fairness statement's counts from rollups (apps.reporting.reports.fairness keeps the
from-scratch statements, used within rollup_reads.from_history()):

- turns (rule decisions per rep) and skips (per skipped rep and reason): the window's whole UTC
  days from reporting_routingdecisionday / reporting_routingskipday (migration 0032), the partial
  days at its two ends from the decisions themselves, through their time indexes;
- each book's tier mix: accounts now per owner and tier from reporting_bookcount.

rebuild / check: SNAPSHOTS and REBUILD join apps.reporting.rollups'.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import DAY, _params, _raw_window, fetch_dicts, window_split

SNAPSHOTS = {
    "routing decisions per day": ("SELECT day, rep_id, outcome, decisions FROM reporting_routingdecisionday "
                                  "WHERE decisions <> 0"),
    "routing skips per day": "SELECT day, rep_id, reason, skips FROM reporting_routingskipday WHERE skips <> 0",
}
REBUILD = "SELECT reporting_routingdays_rebuild()"


def _window(scope, rep_ids):
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    params["ids"] = list(rep_ids)
    return split, params


def turns_by_rep(*, scope, rep_ids, outcome: str) -> dict[int, int]:
    """rep id → decisions of `outcome` that went to them in the window."""
    split, params = _window(scope, rep_ids)
    params["outcome"] = outcome
    parts = [f"""SELECT d.rep_id, count(*) AS n FROM routing_routingdecision d
                 WHERE {_raw_window("d.decided_at", split)} AND d.outcome = %(outcome)s AND d.rep_id = ANY(%(ids)s)
                 GROUP BY d.rep_id"""]
    if split is not None:
        parts.append("""SELECT r.rep_id, sum(r.decisions) FROM reporting_routingdecisionday r
                        WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s AND r.outcome = %(outcome)s
                          AND r.rep_id = ANY(%(ids)s) GROUP BY r.rep_id""")
    sql = f"SELECT rep_id, sum(n)::bigint AS n FROM ({' UNION ALL '.join(parts)}) x GROUP BY rep_id HAVING sum(n) <> 0"
    return {row["rep_id"]: row["n"] for row in fetch_dicts(sql, params)}


def skips_by_rep(*, scope, rep_ids, raw_sql: str, containment: list[str]) -> dict[tuple[int, str], int]:
    """(rep id, reason) → skips in the window. `raw_sql` is the history statement with a
    {window} slot, run over the partial days."""
    split, params = _window(scope, rep_ids)
    params["containment"] = containment
    parts = [raw_sql.format(window=_raw_window("d.decided_at", split))]
    if split is not None:
        parts.append("""SELECT r.rep_id, r.reason, sum(r.skips) FROM reporting_routingskipday r
                        WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s AND r.rep_id = ANY(%(ids)s)
                        GROUP BY r.rep_id, r.reason""")
    sql = f"""SELECT rep_id, reason, sum(n)::bigint AS n FROM ({' UNION ALL '.join(parts)}) x (rep_id, reason, n)
              GROUP BY rep_id, reason HAVING sum(n) <> 0"""
    return {(row["rep_id"], row["reason"]): row["n"] for row in fetch_dicts(sql, params)}


def tiers_by_owner(*, owner_ids) -> list[tuple[int, str, int]]:
    """(owner id, tier, accounts) now, the books' tier mix."""
    rows = fetch_dicts("""SELECT b.owner_id, b.tier, sum(b.accounts)::bigint AS n FROM reporting_bookcount b
                          WHERE b.owner_id = ANY(%(ids)s) AND b.accounts <> 0
                          GROUP BY b.owner_id, b.tier HAVING sum(b.accounts) <> 0""", {"ids": list(owner_ids)})
    return [(row["owner_id"], row["tier"], row["n"]) for row in rows]
