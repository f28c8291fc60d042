"""The campaign report's per-campaign numbers from the rollups (report_selectors.campaign_rows
outside apps.reporting.rollup_reads.from_history()), in one statement:

- summed from the rollups, whole UTC days from the day tables and the partial days at the
  window's two ends (in the viewer's zone) from the rows themselves, exceptions left out:
  leads, picked up, qualified and leads with an opportunity (rollup_reads.cohort_parts over
  reporting_cycleday), won leads, cadences completed / abandoned early and meetings held
  (reporting_campaignoutcomeday, reporting_campaignoutcome by assignment time); the similar
  cohort's totals per (lead type, source) pair are the same sums over all cycles, less the
  pairs' cycles whose contact interacted with the campaign (reporting_campaigntouchday and
  reporting_campaigntouch: one row per cycle and campaign its contact interacted with, since
  that is a set per campaign, not a count per day); the distinct opportunities, pipeline and won
  deals (an opportunity counts once per campaign however many of its cycles it came from) from
  reporting_campaignoppday, whose facts are each their (campaign, opportunity)'s only one, plus
  the window's shared facts of reporting_campaignopp counted distinct (_money_parts);
- a bounded read, because no sum gives it: the median response (the window's responded campaign
  cycles, from their covering partial index, migration 0029_camp_report_indexes)."""

from __future__ import annotations

from apps.reporting.rollup_reads import (
    COUNT_COLUMNS,
    COUNTED,
    DAY,
    RESPONSE_S,
    _params,
    _raw_window,
    _rep,
    cohort_parts,
    fetch_dicts,
    window_split,
)

OUTCOMES = ("won", "completed", "early", "held")


def _outcome_parts(scope, split) -> str:
    lead_type = " AND {a}.lead_type = %(lead_type)s" if scope.lead_type else ""
    parts = [f"""SELECT f.rep_id, f.source, f.lead_type, f.campaign_id, {", ".join(f"f.{k}" for k in OUTCOMES)}
                 FROM reporting_campaignoutcome f
                 WHERE {_raw_window("f.assigned_at", split)}{_rep("f", scope)}{lead_type.format(a="f")}"""]
    if split is not None:
        parts.append(f"""SELECT r.rep_id, r.source, r.lead_type, r.campaign_id, {", ".join(f"r.{k}" for k in OUTCOMES)}
                         FROM reporting_campaignoutcomeday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s{_rep("r", scope)}{lead_type.format(a="r")}""")
    return "\nUNION ALL\n".join(parts)


def _touch_parts(scope, split) -> str:
    """(campaign, lead type, source, leads, sql, opp, won) rows adding up to the window's cycles
    in scope whose contact interacted with the campaign: reporting_campaigntouchday for the whole
    UTC days, reporting_campaigntouch for the partial days at the ends."""
    lead_type = " AND {a}.lead_type = %(lead_type)s" if scope.lead_type else ""
    parts = [f"""SELECT f.campaign_id, f.lead_type, f.source, 1, f.is_sql::int, f.is_opp::int, f.is_won::int
                 FROM reporting_campaigntouch f
                 WHERE {_raw_window("f.assigned_at", split)}{_rep("f", scope)}{lead_type.format(a="f")}
                   AND f.campaign_id IN (SELECT campaign_id FROM pairs)"""]
    if split is not None:
        parts.append(f"""SELECT r.campaign_id, r.lead_type, r.source, r.leads, r.sql, r.opp, r.won
                         FROM reporting_campaigntouchday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s{_rep("r", scope)}{lead_type.format(a="r")}
                           AND r.campaign_id IN (SELECT campaign_id FROM pairs)""")
    return "\nUNION ALL\n".join(parts)


def _money_parts(scope, split) -> str:
    """(campaign, opportunities, pipeline, won, won amount) rows adding up to the distinct
    opportunities of the window's campaign cycles in scope: an unshared fact is its opportunity's
    only one for its campaign, so those are summed (reporting_campaignoppday for the whole UTC
    days, the facts for the partial days); the shared ones of the window are counted distinct."""
    lead_type = " AND {a}.lead_type = %(lead_type)s" if scope.lead_type else ""
    one = "1, coalesce({a}.amount, 0), {a}.won::int, CASE WHEN {a}.won THEN coalesce({a}.amount, 0) ELSE 0 END"
    parts = [f"""SELECT f.campaign_id, {one.format(a="f")}
                 FROM reporting_campaignopp f
                 WHERE {_raw_window("f.assigned_at", split)} AND NOT f.shared{_rep("f", scope)}{lead_type.format(a="f")}""",
             f"""SELECT s.campaign_id, {one.format(a="s")}
                 FROM (SELECT DISTINCT f.campaign_id, f.opportunity_id, f.amount, f.won
                       FROM reporting_campaignopp f
                       WHERE f.shared AND f.assigned_at >= %(start)s AND f.assigned_at < %(end)s{_rep("f", scope)}{lead_type.format(a="f")}) s"""]
    if split is not None:
        parts.append(f"""SELECT r.campaign_id, r.opportunities, r.pipeline, r.won, r.won_amount
                         FROM reporting_campaignoppday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s{_rep("r", scope)}{lead_type.format(a="r")}""")
    return "\nUNION ALL\n".join(parts)


def campaign_rows_kept(*, scope, params: dict) -> list[dict]:
    """report_selectors.campaign_rows' rows (the same columns and types) from the rollups;
    `params` holds its status values (meeting_qualified, won)."""
    counts, count_params = cohort_parts(scope)
    split = window_split(scope.start, scope.end, step=DAY)
    params = {**params, **count_params, **_params(scope, split)}
    cycles = ["c.assigned_at >= %(start)s", "c.assigned_at < %(end)s", COUNTED]
    if scope.rep_ids is not None:
        cycles.append("c.rep_id = ANY(%(rep_ids)s)")
    if scope.lead_type:
        params["lead_type"] = scope.lead_type
        cycles.append("c.lead_type = %(lead_type)s")
    in_window = " AND ".join(cycles)
    zeros = ", ".join(["0"] * len(OUTCOMES))
    sql = f"""
        WITH counts ({", ".join(["rep_id", "source", "lead_type", "campaign_id", *COUNT_COLUMNS])}) AS MATERIALIZED ({counts}),
        outcomes (rep_id, source, lead_type, campaign_id, {", ".join(OUTCOMES)}) AS MATERIALIZED ({_outcome_parts(scope, split)}),
        keyed AS MATERIALIZED (
            SELECT lead_type, source, campaign_id, sum(leads) AS leads, sum(picked_up) AS picked_up, sum(sql) AS sql,
                   sum(opp) AS opp, sum(won) AS won, sum(completed) AS completed, sum(early) AS early, sum(held) AS held
            FROM (SELECT lead_type, source, campaign_id, assigned AS leads, picked_up, qualified AS sql, opp, {zeros}
                  FROM counts
                  UNION ALL
                  SELECT lead_type, source, campaign_id, 0, 0, 0, 0, {", ".join(OUTCOMES)} FROM outcomes
                 ) x (lead_type, source, campaign_id, leads, picked_up, sql, opp, {", ".join(OUTCOMES)})
            GROUP BY lead_type, source, campaign_id
            HAVING sum(leads) > 0),
        mine AS (
            SELECT campaign_id, sum(leads)::bigint AS leads, sum(picked_up)::bigint AS picked_up, sum(sql)::bigint AS sql,
                   sum(opp)::bigint AS opp_cycles, sum(won)::bigint AS won_cycles,
                   sum(completed)::bigint AS cadence_completed, sum(early)::bigint AS abandoned_early,
                   sum(held) AS meetings_held
            FROM keyed WHERE campaign_id IS NOT NULL GROUP BY campaign_id),
        medians AS (
            SELECT c.campaign_record_id AS campaign_id,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {RESPONSE_S}) AS median_s
            FROM people_leadcycle c
            WHERE {in_window} AND c.campaign_record_id IS NOT NULL
              AND c.first_touch_at IS NOT NULL AND NOT c.bypassed_working
              -- one index range per campaign, read in campaign order (no sort before the
              -- aggregate); only campaigns that exist are shown anyway (joined below)
              AND c.campaign_record_id = ANY(ARRAY(SELECT id FROM campaigns_campaign))
            GROUP BY c.campaign_record_id),
        money AS (
            SELECT campaign_id, sum(n)::bigint AS opportunities, coalesce(sum(amount), 0) AS pipeline,
                   sum(won)::bigint AS won, coalesce(sum(won_amount), 0) AS won_amount
            FROM ({_money_parts(scope, split)}) x (campaign_id, n, amount, won, won_amount)
            GROUP BY campaign_id),
        pairs AS (SELECT DISTINCT campaign_id, lead_type, source FROM keyed WHERE campaign_id IS NOT NULL),
        by_pair AS (
            SELECT lead_type, source, sum(leads) AS leads, sum(sql) AS sql, sum(opp) AS opp_cycles, sum(won) AS won_cycles
            FROM keyed GROUP BY lead_type, source),
        -- the part of each pair's cycles whose contact interacted with the campaign: summed
        -- from the kept touches (one per cycle and campaign its contact interacted with)
        touched AS MATERIALIZED (
            SELECT p.campaign_id, sum(t.leads) AS leads, sum(t.sql) AS sql, sum(t.opp) AS opp_cycles,
                   sum(t.won) AS won_cycles
            FROM ({_touch_parts(scope, split)}) t (campaign_id, lead_type, source, leads, sql, opp, won)
            JOIN pairs p ON p.campaign_id = t.campaign_id AND p.lead_type = t.lead_type
                        AND p.source IS NOT DISTINCT FROM t.source
            GROUP BY p.campaign_id),
        alike AS MATERIALIZED (
            SELECT a.campaign_id, (a.leads - coalesce(t.leads, 0))::bigint AS leads,
                   (a.sql - coalesce(t.sql, 0))::bigint AS sql,
                   (a.opp_cycles - coalesce(t.opp_cycles, 0))::bigint AS opp_cycles,
                   (a.won_cycles - coalesce(t.won_cycles, 0))::bigint AS won_cycles
            FROM (SELECT p.campaign_id, sum(b.leads) AS leads, sum(b.sql) AS sql, sum(b.opp_cycles) AS opp_cycles,
                         sum(b.won_cycles) AS won_cycles
                  FROM pairs p JOIN by_pair b ON b.lead_type = p.lead_type AND b.source IS NOT DISTINCT FROM p.source
                  GROUP BY p.campaign_id) a
            LEFT JOIN touched t ON t.campaign_id = a.campaign_id)
        SELECT k.id AS campaign_id, k.name, k.offer, k.source AS campaign_source, k.cost,
               mine.leads, mine.picked_up, medians.median_s, mine.sql, mine.opp_cycles, mine.won_cycles,
               mine.cadence_completed, mine.abandoned_early, mine.meetings_held,
               coalesce(money.opportunities, 0) AS opportunities, coalesce(money.pipeline, 0) AS pipeline,
               coalesce(money.won, 0) AS won, coalesce(money.won_amount, 0) AS won_amount,
               coalesce(alike.leads, 0) AS similar_leads, coalesce(alike.sql, 0) AS similar_sql,
               coalesce(alike.opp_cycles, 0) AS similar_opp_cycles,
               coalesce(alike.won_cycles, 0) AS similar_won_cycles,
               (SELECT string_agg(DISTINCT p.lead_type || ' / ' || coalesce(nullif(p.source, ''), 'no source'), ', ')
                FROM pairs p WHERE p.campaign_id = k.id) AS similar_by
        FROM mine
        JOIN campaigns_campaign k ON k.id = mine.campaign_id
        LEFT JOIN medians ON medians.campaign_id = k.id
        LEFT JOIN money ON money.campaign_id = k.id
        LEFT JOIN alike ON alike.campaign_id = k.id
        ORDER BY mine.leads DESC, k.name"""
    return fetch_dicts(sql, params)
