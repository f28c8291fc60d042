"""The market segments page's numbers read from the segment changes rollup
(reporting.SegmentChangeDay: changes per UTC day, owner of the account now, from, to and whether
the rules made them), so the page reads days × owners rows instead of every change of the window,
and its accounts per segment from reporting.MarketCount (per owner now, segment, overridden) and
reporting.BookCount instead of every account's segment row.

As for the other rollups (apps.reporting.rollup_reads), the window's whole UTC days come from the
rollup and its partial days at each end from the changes themselves (their time index); the weekly
arrivals cut the window at each local week start (Monday) first, so a zone whose midnight falls
inside a UTC day still gets exact weeks. The scope is the accounts' owner now, as
sdrops.access.accounts_visible_to has it for ops (all), managers and SDRs; an AE's accounts (owned,
or held as opportunity or customer owner) are not an owner set, so that page reads history.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import DAY, fetch_dicts, window_split
from apps.reporting.sales_reads import _raw, week_pieces

SNAPSHOTS = {
    "segment changes per day": ("SELECT day, owner_id, from_segment, to_segment, by_rules, moves "
                                "FROM reporting_segmentchangeday WHERE moves <> 0"),
    "market segments now": ("SELECT owner_id, segment, overridden, accounts FROM reporting_marketcount "
                            "WHERE accounts <> 0"),
}
REBUILD = "SELECT reporting_markets_rebuild()"


def _parts(scope, *, owner_ids: set[int] | None, weekly: bool) -> tuple[str, dict]:
    """(label, from_segment, to_segment, by_rules, n) rows adding up to the window's changes of
    accounts owned by `owner_ids` now (None: every account)."""
    pieces = week_pieces(scope) if weekly else [(scope.date_from, scope.start, scope.end)]
    params: dict = {}
    raw_mine = ""
    mine = ""
    if owner_ids is not None:
        params["owner_ids"] = sorted(owner_ids)
        raw_mine = " AND a.owner_id = ANY(%(owner_ids)s)"
        mine = " AND r.owner_id = ANY(%(owner_ids)s)"
    raw_from = ("markets_marketsegmentchange ch JOIN accounts_account a ON a.id = ch.account_id" if owner_ids is not None
                else "markets_marketsegmentchange ch")
    parts = []
    for k, (label, start, end) in enumerate(pieces):
        split = window_split(start, end, step=DAY)
        params.update({f"start_{k}": start, f"end_{k}": end, f"label_{k}": label})
        parts.append(f"""SELECT %(label_{k})s::date AS label, ch.from_segment, ch.to_segment, ch.source = 'rules' AS by_rules,
                                1 AS n
                         FROM {raw_from} WHERE {_raw("ch.occurred_at", k, split)}{raw_mine}""")
        if split is not None:
            params.update({f"lo_{k}": split[0], f"hi_{k}": split[1], f"lo_day_{k}": split[0].date(),
                           f"hi_day_{k}": split[1].date()})
            parts.append(f"""SELECT %(label_{k})s::date, r.from_segment, r.to_segment, r.by_rules, r.moves
                             FROM reporting_segmentchangeday r
                             WHERE r.day >= %(lo_day_{k})s AND r.day < %(hi_day_{k})s AND r.moves <> 0{mine}""")
    return f"WITH p (label, from_segment, to_segment, by_rules, n) AS ({' UNION ALL '.join(parts)})", params


def segment_movements(scope, *, owner_ids: set[int] | None) -> list[dict]:
    """apps.markets.selectors.segment_movements from the rollup: from, to, moves, by rules, by hand."""
    with_sql, params = _parts(scope, owner_ids=owner_ids, weekly=False)
    sql = f"""{with_sql}
        SELECT p.from_segment, p.to_segment, sum(p.n) AS moves,
               coalesce(sum(p.n) FILTER (WHERE p.by_rules), 0) AS by_rules,
               coalesce(sum(p.n) FILTER (WHERE NOT p.by_rules), 0) AS by_hand
        FROM p GROUP BY 1, 2 HAVING sum(p.n) <> 0 ORDER BY 1, 2"""
    return fetch_dicts(sql, params)


def segment_weekly_arrivals(scope, *, owner_ids: set[int] | None) -> list[dict]:
    """apps.markets.selectors.segment_weekly_arrivals from the rollup: (week, to_segment, n) per
    local week (its Monday, a date)."""
    with_sql, params = _parts(scope, owner_ids=owner_ids, weekly=True)
    sql = f"""{with_sql}
        SELECT p.label AS week, p.to_segment, sum(p.n) AS n
        FROM p GROUP BY 1, 2 HAVING sum(p.n) <> 0 ORDER BY 1, 2"""
    return fetch_dicts(sql, params)


def segment_counts(*, owner_ids: set[int] | None, segments) -> dict:
    """apps.markets.selectors.segment_counts from the rollups: accounts per effective segment and
    with an override (reporting.MarketCount) and all accounts (reporting.BookCount), of accounts
    owned by `owner_ids` now (None: every account). One statement."""
    params: dict = {}
    mine = ""
    if owner_ids is not None:
        params["owner_ids"] = sorted(owner_ids)
        mine = " AND owner_id = ANY(%(owner_ids)s)"
    sql = f"""SELECT 'm' AS kind, segment, overridden, sum(accounts) AS n FROM reporting_marketcount
              WHERE accounts <> 0{mine} GROUP BY 2, 3
              UNION ALL
              SELECT 't', '', false, coalesce(sum(accounts), 0) FROM reporting_bookcount WHERE accounts <> 0{mine}"""
    rows = fetch_dicts(sql, params)
    by_segment = {value: 0 for value in segments}
    overridden = total = 0
    for row in rows:
        if row["kind"] == "t":
            total = row["n"]
            continue
        if row["segment"]:
            by_segment[row["segment"]] += row["n"]
        if row["overridden"]:
            overridden += row["n"]
    return {"by_segment": by_segment, "unclassified": total - sum(by_segment.values()), "overridden": overridden}
