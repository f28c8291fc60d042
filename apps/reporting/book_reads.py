"""The account-side report numbers read from the books rollup (reporting.BookCount: accounts
now, per owner, segment, tier, status, ICP matched and score band), so territory, the
dashboard's books and ICP coverage read a few hundred rows instead of every account.

ICP coverage's "worked" figures are not sums (an account worked by two reps, or on two days,
counts once): they read the window's activities in scope from their time index, one row per
account, and join those accounts by primary key — a slice of the window, not of history.
The from-scratch versions stay in apps.reporting.selectors (`from_history()` switches to them).
"""

from __future__ import annotations

import datetime as dt

from apps.reporting.rollup_reads import fetch_dicts

TIERS = ("A", "B", "C")


def _book_where(*, rep_ids, segment: str, owned: bool | None, alias: str = "b") -> tuple[str, dict]:
    where, params = [f"{alias}.accounts <> 0"], {}
    if owned is True:
        where.append(f"{alias}.owner_id IS NOT NULL")
    elif owned is False:
        where.append(f"{alias}.owner_id IS NULL")
    if rep_ids is not None:
        where.append(f"{alias}.owner_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(rep_ids)
    if segment:
        where.append(f"{alias}.segment = %(segment)s")
        params["segment"] = segment
    return " AND ".join(where), params


def territory_by_owner(scope, *, statuses) -> list[dict]:
    where, params = _book_where(rep_ids=scope.rep_ids, segment=scope.segment, owned=True)
    params["tiers"] = list(TIERS)
    sums = [f"coalesce(sum(b.accounts) FILTER (WHERE b.tier = '{t}'), 0) AS tier_{t.lower()}" for t in TIERS]
    sums.append("coalesce(sum(b.accounts) FILTER (WHERE NOT b.tier = ANY(%(tiers)s)), 0) AS tier_none")
    for index, status in enumerate(statuses):
        params[f"status_{index}"] = status
        sums.append(f"coalesce(sum(b.accounts) FILTER (WHERE b.status = %(status_{index})s), 0) AS status_{status}")
    sql = f"""SELECT b.owner_id, r.owner_name AS owner__owner_name, sum(b.accounts) AS accounts, {", ".join(sums)}
              FROM reporting_bookcount b LEFT JOIN people_rep r ON r.id = b.owner_id
              WHERE {where} GROUP BY b.owner_id, r.owner_name HAVING sum(b.accounts) <> 0"""
    return fetch_dicts(sql, params)


def territory_unassigned(scope, *, statuses) -> list[dict]:
    where, params = _book_where(rep_ids=None, segment=scope.segment, owned=False)
    params["statuses"] = list(statuses)
    sql = f"""SELECT b.segment, coalesce(sum(b.accounts) FILTER (WHERE b.tier = 'A'), 0) AS tier_a,
                     coalesce(sum(b.accounts) FILTER (WHERE b.tier = 'B'), 0) AS tier_b, sum(b.accounts) AS pool
              FROM reporting_bookcount b WHERE {where} AND b.status = ANY(%(statuses)s)
              GROUP BY b.segment HAVING sum(b.accounts) <> 0 ORDER BY b.segment"""
    return fetch_dicts(sql, params)


def accounts_by_owner(scope) -> dict[int, int]:
    where, params = _book_where(rep_ids=scope.rep_ids, segment="", owned=True)
    sql = f"SELECT b.owner_id, sum(b.accounts) AS n FROM reporting_bookcount b WHERE {where} GROUP BY 1 HAVING sum(b.accounts) <> 0"
    return {row["owner_id"]: row["n"] for row in fetch_dicts(sql, params)}


def score_histogram(scope) -> list[dict]:
    where, params = _book_where(rep_ids=scope.rep_ids, segment=scope.segment, owned=None)
    sql = f"""SELECT b.band, sum(b.accounts) AS n FROM reporting_bookcount b WHERE {where}
              GROUP BY b.band HAVING sum(b.accounts) <> 0 ORDER BY b.band"""
    return fetch_dicts(sql, params)


def icp_coverage_by_owner(scope, *, activity_where: str, params: dict) -> list[dict]:
    """Per owner (none: the pool): the counts from the books, the worked figures from the
    window's activities (one row per account) joined to their accounts by primary key."""
    book_where, book_params = _book_where(rep_ids=scope.rep_ids, segment=scope.segment, owned=None)
    params = {**params, **book_params}
    account_where = ["TRUE"]
    if scope.rep_ids is not None:
        account_where.append("acc.owner_id = ANY(%(rep_ids)s)")
    if scope.segment:
        account_where.append("acc.segment = %(segment)s")
    sql = f"""
        SELECT owner_id, sum(accounts) AS accounts, sum(matched) AS matched, sum(worked) AS worked_accounts,
               sum(score)::numeric / nullif(sum(worked), 0) AS avg_score_worked,
               sum(tier_a) AS tier_a, sum(tier_a_contacted) AS tier_a_contacted
        FROM (SELECT b.owner_id, b.accounts, b.accounts * b.matched::int AS matched, 0 AS worked, 0 AS score,
                     b.accounts * (b.tier = 'A')::int AS tier_a, 0 AS tier_a_contacted
              FROM reporting_bookcount b WHERE {book_where}
              UNION ALL
              SELECT acc.owner_id, 0, 0, 1, acc.total_score, 0, (acc.tier = 'A' AND w.contacted)::int
              FROM (SELECT a.account_id, bool_or(a.type = ANY(%(outreach)s)) AS contacted
                    FROM accounts_activity a WHERE {activity_where} AND a.account_id IS NOT NULL
                    GROUP BY a.account_id) w
              JOIN accounts_account acc ON acc.id = w.account_id
              WHERE {" AND ".join(account_where)}) x
        GROUP BY owner_id HAVING sum(accounts) <> 0"""
    return fetch_dicts(sql, params)


def coverage_by_owner(*, rep_ids, segment: str | None, rules, touch_types, quadrants: dict[str, str], now) -> list[dict]:
    """apps.markets.coverage.coverage_by_owner, set-based: the books' accounts joined to their
    kept contact side (reporting.AccountContacts: contacts, distinct roles and personas, open
    cycles; compared with the settings here) and to the window's touches grouped per account,
    instead of six correlated lookups per account. Engaged needs "the latest touch at most
    recency_days old", which is "a touch in [now − recency_days, now]": no pass over older touches."""
    since, recent = now - dt.timedelta(days=rules.window_days), now - dt.timedelta(days=rules.recency_days)
    params = {"since": since, "recent": recent, "now": now, "roles": list(rules.roles), "personas": list(rules.personas),
              "touch_types": list(touch_types), "min_contacts": rules.min_contacts, "min_touches": rules.min_touches}
    where = ["acc.owner_id IS NOT NULL"]
    if rep_ids is not None:
        where.append("acc.owner_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(rep_ids)
    if segment:
        where.append("acc.segment = %(segment)s")
        params["segment"] = segment

    def present(values: str, listed: str) -> str:
        # "at least len(list) distinct listed values present": every listed value present, or
        # never when the list repeats a value (fewer distinct values than its length)
        if len(set(params[listed])) < len(params[listed]):
            return "FALSE"
        return f"coalesce({values}, '{{}}') @> %({listed})s::text[]"

    counts = []
    for key in ("identify", "expand_reach", "engage", "win"):
        params[f"q_{key}"] = quadrants[key]
        counts.append(f"count(*) FILTER (WHERE x.quadrant = %(q_{key})s) AS {key}")
    sql = f"""
        WITH acc AS MATERIALIZED (SELECT acc.id, acc.owner_id FROM accounts_account acc WHERE {" AND ".join(where)}),
        t AS (SELECT a.account_id, count(*) FILTER (WHERE a.occurred_at >= %(since)s) AS touches,
                     bool_or(a.occurred_at >= %(recent)s) AS recent
              FROM accounts_activity a
              WHERE a.occurred_at >= LEAST(%(since)s, %(recent)s) AND a.occurred_at <= %(now)s AND a.contact_id IS NOT NULL
                AND NOT a.automated AND a.type = ANY(%(touch_types)s) AND a.account_id IS NOT NULL
              GROUP BY a.account_id),
        x AS (SELECT acc.owner_id, coalesce(ct.in_funnel, 0) AS in_funnel,
                     coalesce(ct.known, 0) >= %(min_contacts)s AND {present("ct.roles", "roles")}
                         AND {present("ct.personas", "personas")} AS covered,
                     coalesce(t.touches, 0) >= %(min_touches)s AND coalesce(t.recent, false) AS engaged
              FROM acc LEFT JOIN reporting_accountcontacts ct ON ct.account_id = acc.id LEFT JOIN t ON t.account_id = acc.id),
        y AS (SELECT x.*, CASE WHEN covered AND engaged THEN %(q_win)s WHEN covered THEN %(q_engage)s
                               WHEN engaged THEN %(q_expand_reach)s ELSE %(q_identify)s END AS quadrant FROM x)
        SELECT x.owner_id, count(*) AS accounts, {", ".join(counts)},
               count(*) FILTER (WHERE x.covered) AS covered_accounts, count(*) FILTER (WHERE x.engaged) AS engaged_accounts,
               coalesce(sum(x.in_funnel), 0) AS leads_in_funnel
        FROM y x GROUP BY x.owner_id"""
    return fetch_dicts(sql, params)
