"""The numbers behind the report pages: aggregates computed by PostgreSQL.

Every function takes a `Scope` (time window, reps in scope, segment, lead type) and runs a
fixed number of queries whatever the data size: counts with FILTER, percentiles with
`percentile_cont`, one GROUP BY per breakdown. Python only lines the results up and divides.
"""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Count, Max, Q

from apps.accounts.models import Account, Activity, ActivityType
from apps.leads.business_hours import holidays_between
from apps.leads.models import SlaBreach, SlaPolicy
from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Rep
from apps.reporting import book_reads as books
from apps.reporting import icp_reads, lead_reads
from apps.reporting import rollup_reads as kept
from apps.reporting.rollup_reads import fetch_dicts, from_history, history_mode  # noqa: F401 (for callers)
from sdrops.api.scope import Scope

OUTREACH_TYPES = (ActivityType.CALL, ActivityType.EMAIL, ActivityType.SOCIAL, ActivityType.MEETING)
TIERS = ("A", "B", "C")
STATUSES = tuple(Account.Status.values)


def roster(*, scope: Scope, roles=(Rep.Role.SDR,)) -> list[dict]:
    """The active reps of `roles` in scope, by name: rows that show zeros when they have no data."""
    qs = Rep.objects.filter(role__in=roles, active=True)
    if scope.rep_ids is not None:
        qs = qs.filter(pk__in=scope.rep_ids)
    return list(qs.order_by("owner_name", "pk").values("pk", "owner_name", "team__name", "ramp_start", "segment"))


def merge_by_rep(*, reps: list[dict], rows: list[dict], key: str = "rep_id", name: str = "rep__owner_name",
                 zero: dict) -> list[dict]:
    """One row per rep of the roster (zeros where the query found nothing), plus any other SDR
    the query found (an inactive one, say), plus unassigned records last. An AE, manager or ops
    admin who holds records is never a row of a per-SDR table (their figures are not an
    SDR's); the team totals, computed over the scope, still count their records."""
    found = {row[key]: row for row in rows}
    out = []
    for rep in reps:
        row = found.pop(rep["pk"], None)
        out.append({**zero, **(row or {}), "rep_id": rep["pk"], "rep": rep["owner_name"]})
    others = [pk for pk in found if pk is not None]
    if others:
        for pk in Rep.objects.filter(pk__in=others).exclude(role=Rep.Role.SDR).values_list("pk", flat=True):
            found.pop(pk)
    extra = sorted(found.values(), key=lambda r: (r[key] is None, str(r.get(name) or "")))
    for row in extra:
        out.append({**zero, **row, "rep_id": row[key], "rep": row.get(name) or "(unassigned)"})
    return out


# -- territory ------------------------------------------------------------------------------

def territory_by_owner(*, scope: Scope) -> list[dict]:
    if not history_mode():  # from the books rollup (apps.reporting.book_reads), like the three below
        return books.territory_by_owner(scope, statuses=STATUSES)
    qs = Account.objects.filter(owner__isnull=False, **scope.rep_filter("owner_id"))
    if scope.segment:
        qs = qs.filter(segment=scope.segment)
    aggregates = {"accounts": Count("id")}
    for tier in TIERS:
        aggregates[f"tier_{tier.lower()}"] = Count("id", filter=Q(tier=tier))
    aggregates["tier_none"] = Count("id", filter=~Q(tier__in=TIERS))
    for status in STATUSES:
        aggregates[f"status_{status}"] = Count("id", filter=Q(status=status))
    return list(qs.values("owner_id", "owner__owner_name").annotate(**aggregates).order_by())


def territory_unassigned(*, scope: Scope) -> list[dict]:
    """Pool accounts (no owner) by segment and tier, prospects and active ones only."""
    if not history_mode():
        return books.territory_unassigned(scope, statuses=(Account.Status.PROSPECT, Account.Status.ACTIVE))
    qs = Account.objects.filter(owner__isnull=True, status__in=[Account.Status.PROSPECT, Account.Status.ACTIVE])
    if scope.segment:
        qs = qs.filter(segment=scope.segment)
    return list(
        qs.values("segment").annotate(
            tier_a=Count("id", filter=Q(tier="A")), tier_b=Count("id", filter=Q(tier="B")), pool=Count("id")
        ).order_by("segment")
    )


# -- activity -------------------------------------------------------------------------------

def _activities(*, scope: Scope, real_only: bool = True):
    qs = Activity.objects.filter(occurred_at__gte=scope.start, occurred_at__lt=scope.end, **scope.rep_filter())
    if real_only:
        qs = qs.filter(automated=False)
    if scope.rep_ids is None:
        qs = qs.filter(rep__isnull=False)
    return qs


def _activity_where(scope: Scope, *, activity_type: str = "") -> tuple[str, dict]:
    where = ["a.occurred_at >= %(start)s", "a.occurred_at < %(end)s", "NOT a.automated", "a.rep_id IS NOT NULL"]
    params = {"start": scope.start, "end": scope.end}
    if scope.rep_ids is not None:
        where.append("a.rep_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(scope.rep_ids)
    if activity_type:
        where.append("a.type = %(type)s")
        params["type"] = activity_type
    return " AND ".join(where), params


def activity_volume(*, scope: Scope, activity_type: str = "") -> dict[str, list[dict]]:
    """Non-automated activities per rep per local day and per rep per week (weeks start
    Monday), from one statement. All types: from the hourly rollup (kept.activity_daily_sql);
    one type, or a zone with half-hour midnights: from the period's activities."""
    from django.utils import timezone

    daily = None if activity_type or history_mode() else kept.activity_daily_sql(scope)
    if daily is not None:
        daily_sql, params = daily
    else:
        where, params = _activity_where(scope, activity_type=activity_type)
        params["tz"] = timezone.get_current_timezone_name()
        daily_sql = f"""
            SELECT a.rep_id, (a.occurred_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
            FROM accounts_activity a WHERE {where}
            GROUP BY 1, 2"""
    # Aggregate per (rep, day) once, then roll the few daily rows up into weeks: no sort
    # of the period's activities.
    sql = f"""
        WITH daily AS MATERIALIZED ({daily_sql})
        SELECT 'daily' AS kind, rep_id, day, n FROM daily
        UNION ALL
        SELECT 'weekly', rep_id, date_trunc('week', day)::date, sum(n)::bigint FROM daily GROUP BY 1, 2, 3
    """
    out: dict[str, list[dict]] = {"daily": [], "weekly": []}
    for row in fetch_dicts(sql, params):
        if row["kind"] == "weekly":
            out["weekly"].append({"rep_id": row["rep_id"], "week": row["day"], "n": row["n"]})
        else:
            out["daily"].append({"rep_id": row["rep_id"], "day": row["day"], "n": row["n"]})
    return out


def activity_research_first(*, scope: Scope) -> list[dict]:
    """Per rep: accounts whose first outreach by that rep (ever) fell in the period, and how
    many of them had an `intelligence_run` by the same rep before it — from the first touches
    kept per (rep, account) (kept.activity_research_first)."""
    return activity_research_first_history(scope=scope) if history_mode() else kept.activity_research_first(scope)


def activity_research_first_history(*, scope: Scope) -> list[dict]:
    """From scratch: per rep: accounts whose first outreach by that rep (ever) fell in the period, and how
    many of them had an `intelligence_run` by the same rep before it. One pass over the reps'
    activities up to the period's end, grouped by (rep, account)."""
    rep_clause, params = "", {"outreach": list(OUTREACH_TYPES), "research": ActivityType.INTELLIGENCE_RUN,
                              "start": scope.start, "end": scope.end}
    if scope.rep_ids is not None:
        rep_clause = "AND a.rep_id = ANY(%(rep_ids)s)"
        params["rep_ids"] = list(scope.rep_ids)
    sql = f"""
        SELECT p.rep_id, count(*) AS first_outreach,
               count(*) FILTER (WHERE p.first_research < p.first_outreach) AS researched
        FROM (SELECT a.rep_id, a.account_id,
                     min(a.occurred_at) FILTER (WHERE a.type = ANY(%(outreach)s)) AS first_outreach,
                     min(a.occurred_at) FILTER (WHERE a.type = %(research)s) AS first_research
              FROM accounts_activity a
              WHERE NOT a.automated AND a.account_id IS NOT NULL AND a.rep_id IS NOT NULL
                AND a.occurred_at < %(end)s {rep_clause}
                AND (a.type = ANY(%(outreach)s) OR a.type = %(research)s)
              GROUP BY a.rep_id, a.account_id) p
        WHERE p.first_outreach >= %(start)s
        GROUP BY p.rep_id
    """
    return fetch_dicts(sql, params)


def activity_last_deal(*, scope: Scope) -> dict[int, dt.datetime]:
    """Per rep: when they last created an opportunity up to the period's end — one they sourced
    (apps.meetings) or a `deal_created` activity (logged by other tools), whichever is later."""

    acts = Activity.objects.filter(type=ActivityType.DEAL_CREATED, occurred_at__lt=scope.end, rep__isnull=False,
                                   **scope.rep_filter())
    opps = Opportunity.objects.filter(created_at__lt=scope.end, sourcing_sdr__isnull=False,
                                      **scope.rep_filter("sourcing_sdr_id"))
    last: dict[int, dt.datetime] = {}
    for rep_id, when in [*acts.values("rep_id").annotate(last=Max("occurred_at")).order_by().values_list("rep_id", "last"),
                         *opps.values("sourcing_sdr_id").annotate(last=Max("created_at")).order_by()
                         .values_list("sourcing_sdr_id", "last")]:
        last[rep_id] = max(when, last.get(rep_id, when))
    return last


def activity_list(*, scope: Scope, activity_type: str = "", account: str = "", limit: int = 200):
    qs = _activities(scope=scope, real_only=False)
    if activity_type:
        qs = qs.filter(type=activity_type)
    if account:
        qs = qs.filter(account__name__icontains=account)
    return list(qs.select_related("rep", "account", "contact").order_by("-occurred_at", "-id")[:limit])


def weekdays_between(start: dt.date, end: dt.date) -> list[dt.date]:
    days = (end - start).days + 1
    return [start + dt.timedelta(days=i) for i in range(days) if (start + dt.timedelta(days=i)).weekday() < 5]


def daily_pattern(counts: dict[dt.date, int], weekdays: list[dt.date]) -> tuple[float | None, str]:
    """Coefficient of variation of activities per weekday (zero days included): ≤ 1 consistent, > 1 bursty."""
    if not weekdays:
        return None, "no data"
    values = [counts.get(day, 0) for day in weekdays]
    mean = sum(values) / len(values)
    if mean == 0:
        return None, "no data"
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    cv = math.sqrt(variance) / mean
    return cv, "consistent" if cv <= 1 else "bursty"


# -- ICP coverage ---------------------------------------------------------------------------

def _scoped_accounts(*, scope: Scope):
    qs = Account.objects.all()
    if scope.rep_ids is not None:
        qs = qs.filter(owner_id__in=scope.rep_ids)
    if scope.segment:
        qs = qs.filter(segment=scope.segment)
    return qs


def icp_coverage_by_owner(*, scope: Scope) -> list[dict]:
    """Per owner: accounts, ICP-matched, tier A, tier A contacted in the period, and the average
    total score of accounts worked in the period (a real activity by a rep in scope). The
    period's activities are grouped per account once and hash-joined to the accounts."""
    where, params = _activity_where(scope)
    params["outreach"] = list(OUTREACH_TYPES)
    if not history_mode():
        return _float_avg(books.icp_coverage_by_owner(scope, activity_where=where, params=params))
    account_where = ["TRUE"]
    if scope.rep_ids is not None:
        account_where.append("acc.owner_id = ANY(%(rep_ids)s)")
    if scope.segment:
        account_where.append("acc.segment = %(segment)s")
        params["segment"] = scope.segment
    sql = f"""
        SELECT acc.owner_id,
               count(*) AS accounts,
               count(*) FILTER (WHERE acc.matched_icp_id IS NOT NULL) AS matched,
               count(*) FILTER (WHERE w.account_id IS NOT NULL) AS worked_accounts,
               avg(acc.total_score) FILTER (WHERE w.account_id IS NOT NULL) AS avg_score_worked,
               count(*) FILTER (WHERE acc.tier = 'A') AS tier_a,
               count(*) FILTER (WHERE acc.tier = 'A' AND w.contacted) AS tier_a_contacted
        FROM accounts_account acc
        LEFT JOIN (SELECT a.account_id, bool_or(a.type = ANY(%(outreach)s)) AS contacted
                   FROM accounts_activity a WHERE {where} AND a.account_id IS NOT NULL
                   GROUP BY a.account_id) w ON w.account_id = acc.id
        WHERE {" AND ".join(account_where)}
        GROUP BY acc.owner_id
    """
    return _float_avg(fetch_dicts(sql, params))


def _float_avg(rows: list[dict]) -> list[dict]:
    for row in rows:
        if row["avg_score_worked"] is not None:
            row["avg_score_worked"] = float(row["avg_score_worked"])
    return rows


def icp_score_histogram(*, scope: Scope) -> list[dict]:
    """Accounts per band of ten total-score points (90-100 is one band)."""
    if not history_mode():
        return books.score_histogram(scope)
    from django.db.models import IntegerField, Value
    from django.db.models.functions import Cast, Least

    band = Least(Cast("total_score", IntegerField()) / Value(10), Value(9))
    return list(_scoped_accounts(scope=scope).annotate(band=band).values("band").annotate(n=Count("id")).order_by("band"))


# -- lead cycles: lead response and the funnel ---------------------------------------------
#
# One definition of each term, as SQL over the period's cohort. The cohort is materialised once
# per statement with a flag per cycle (meetings and breaches hash-joined, not looked up per row),
# then aggregated with GROUPING SETS so every breakdown and the total come from one scan.

# Exceptions (issue 22) are in no performance number: every cycle statement reads this.
SQL_COUNTED = "{alias}.exception_at IS NULL"


def _cycle_where(scope: Scope, alias: str = "c") -> tuple[str, dict]:
    """The period's cycles in scope, exceptions left out (SQL_COUNTED)."""
    where = [f"{alias}.assigned_at >= %(start)s", f"{alias}.assigned_at < %(end)s", SQL_COUNTED.format(alias=alias)]
    params = {"start": scope.start, "end": scope.end}
    if scope.rep_ids is not None:
        where.append(f"{alias}.rep_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(scope.rep_ids)
    if scope.lead_type:
        where.append(f"{alias}.lead_type = %(lead_type)s")
        params["lead_type"] = scope.lead_type
    return " AND ".join(where), params


# A cycle is an SQL when a Completed – Qualified meeting was booked in it, and an Opp when
# such a meeting's opportunity reached the pipeline stage (whenever either happened).
# The status values are parameters (COHORT_PARAMS), never literals in the SQL.
COHORT_PARAMS = {"qualified": Meeting.Status.COMPLETED_QUALIFIED.value, "breach_maximum": SlaBreach.Kind.MAXIMUM.value}
SQL_QUALIFIED_CYCLES = """
    SELECT m.lead_cycle_id AS cycle_id, bool_or(o.pipeline_at IS NOT NULL) AS opp
    FROM meetings_meeting m LEFT JOIN meetings_opportunity o ON o.id = m.opportunity_id
    WHERE m.status = %(qualified)s AND m.lead_cycle_id IS NOT NULL
    GROUP BY m.lead_cycle_id"""
SQL_BREACHED_CYCLES = "SELECT DISTINCT b.cycle_id FROM people_slabreach b WHERE b.kind = %(breach_maximum)s"
# Per-cycle flags over a lead cycle `c` joined to `q` (qualified) and `b` (breached).
SQL_FLAGS = """
    (c.worked_at IS NOT NULL OR c.dispositioned_at IS NOT NULL) AS picked_up,
    (c.first_touch_at IS NOT NULL AND NOT c.bypassed_working) AS responded,
    -- on the clock of the cycle's SLA policy (stored at the first touch); calendar time if none
    EXTRACT(EPOCH FROM COALESCE(c.response_time, c.first_touch_at - c.assigned_at)) AS response_s,
    q.cycle_id IS NOT NULL AS is_sql,
    COALESCE(q.opp, false) AS is_opp,
    -- past the policy maximum: touched after it, untouched past it (until dispositioned, or
    -- now), or re-assigned by the SLA job for it; once per cycle
    ((c.sla_maximum_at IS NOT NULL AND (
        (c.first_touch_at IS NOT NULL AND c.first_touch_at > c.sla_maximum_at)
        OR (c.first_touch_at IS NULL AND c.sla_maximum_at < COALESCE(c.dispositioned_at, %(now)s))))
     OR b.cycle_id IS NOT NULL) AS breach,
    (c.dispositioned_at IS NOT NULL AND c.first_touch_at IS NULL) AS no_touch"""


def cohort_sql(scope: Scope) -> tuple[str, dict]:
    """WITH clauses ending in `cohort`: the period's cycles in scope with their flags, read
    from the flags the triggers keep on each cycle (kept.cohort_with)."""
    return cohort_sql_history(scope) if history_mode() else kept.cohort_with(scope)


def cohort_sql_history(scope: Scope) -> tuple[str, dict]:
    """From scratch: the period's cycles with flags from every qualified meeting and breach."""
    from django.utils import timezone

    where, params = _cycle_where(scope)
    params.update(COHORT_PARAMS, now=timezone.now())
    sql = f"""
        WITH q AS MATERIALIZED ({SQL_QUALIFIED_CYCLES}),
             b AS MATERIALIZED ({SQL_BREACHED_CYCLES}),
             cohort AS MATERIALIZED (
                 SELECT c.id, c.rep_id, c.source, c.lead_type, c.assigned_at, {SQL_CYCLE_CAMPAIGN}, {SQL_FLAGS}
                 FROM people_leadcycle c
                 LEFT JOIN q ON q.cycle_id = c.id
                 LEFT JOIN b ON b.cycle_id = c.id
                 WHERE {where})"""
    return sql, params


COHORT_AGGREGATES = """
    count(*) AS assigned,
    count(*) FILTER (WHERE picked_up) AS picked_up,
    count(*) FILTER (WHERE responded) AS responded,
    count(*) FILTER (WHERE is_sql) AS qualified,
    count(*) FILTER (WHERE is_opp) AS opp,
    count(*) FILTER (WHERE breach) AS breaches,
    count(*) FILTER (WHERE no_touch) AS no_touch"""
# The two costly ones (each sorts within every group), asked for only by the pages showing them.
SQL_PERCENTILES = """,
    -- one sort per group gives both percentiles
    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_s) FILTER (WHERE responded) AS percentiles"""
# A cycle's campaign is the Campaign record its arrival was linked to (apps.campaigns; one per
# cycle by constraint), so "active campaigns" counts records, not spellings of a name.
SQL_CYCLE_CAMPAIGN = """(SELECT ci.campaign_id FROM campaigns_campaigninteraction ci
                          WHERE ci.lead_cycle_id = c.id) AS campaign_id"""
SQL_CAMPAIGNS = """,
    count(DISTINCT campaign_id) FILTER (WHERE picked_up) AS campaigns"""
BREAKDOWNS = {"rep": "rep_id", "source": "source", "lead_type": "lead_type"}


def cohort_stats(*, scope: Scope, breakdowns=("rep",), percentiles: bool = True,
                 campaigns: bool = False) -> dict[str, list[dict]]:
    """Every lead-cycle number (lead response and the funnel) for each breakdown and in total,
    from the daily rollup (kept.cohort_stats). MQLs are the assigned cycles, SQLs the qualified ones."""
    if history_mode():
        return cohort_stats_history(scope=scope, breakdowns=breakdowns, percentiles=percentiles, campaigns=campaigns)
    return kept.cohort_stats(scope=scope, breakdowns=breakdowns, percentiles=percentiles, campaigns=campaigns,
                             columns=BREAKDOWNS)


def cohort_stats_history(*, scope: Scope, breakdowns=("rep",), percentiles: bool = True,
                         campaigns: bool = False) -> dict[str, list[dict]]:
    """From scratch: every lead-cycle number (lead response and the funnel) for each breakdown and in total,
    from one pass over the cohort: the percentiles of each breakdown need the rows, not
    sub-totals. MQLs are the assigned cycles, SQLs the qualified ones."""
    with_sql, params = cohort_sql_history(scope)
    columns = [BREAKDOWNS[name] for name in breakdowns]
    groupings = ", ".join(f"GROUPING({col}) AS g_{name}" for name, col in zip(breakdowns, columns, strict=True))
    sets = ", ".join(f"({col})" for col in columns)
    sql = f"""{with_sql}
        SELECT {groupings}, {", ".join(columns)}, {COHORT_AGGREGATES}
               {SQL_PERCENTILES if percentiles else ""}{SQL_CAMPAIGNS if campaigns else ""}
        FROM cohort
        GROUP BY GROUPING SETS ({sets}, ())"""
    out: dict[str, list[dict]] = {name: [] for name in (*breakdowns, "total")}
    for row in fetch_dicts(sql, params):
        row["median_s"], row["p90_s"] = row.pop("percentiles", None) or (None, None)
        row["mql"], row["sql"] = row["assigned"], row["qualified"]
        row.setdefault("campaigns", None)
        grouped_by = [name for name in breakdowns if not row[f"g_{name}"]]
        out[grouped_by[0] if grouped_by else "total"].append(row)
    return out


def lead_response_sets(*, scope: Scope) -> dict[str, list[dict]]:
    return cohort_stats(scope=scope, breakdowns=("rep", "source", "lead_type"))


def funnel_sets(*, scope: Scope, stats: dict | None = None) -> tuple[list[dict], dict]:
    """MQL / SQL / Opp and active campaigns per rep and for everyone in scope."""
    stats = stats or cohort_stats(scope=scope, breakdowns=("rep",), percentiles=False, campaigns=True)
    total = stats["total"][0] if stats["total"] else {"mql": 0, "sql": 0, "opp": 0, "campaigns": 0}
    return stats["rep"], total


def funnel_by_tier(*, scope: Scope) -> list[dict]:
    """The cohort's funnel by the tier of the lead's account (now); other tiers are "unscored".
    Kept per day in reporting.TierCycleDay; from scratch, every cycle of the window is joined to
    its contact, account and the qualified-cycles set."""
    if not history_mode():  # the day rollup by tier (apps.reporting.icp_reads)
        return [{"contact__account__tier": row.pop("tier"), **row} for row in icp_reads.funnel_by_tier(scope, tiers=TIERS)]
    where, params = _cycle_where(scope)
    params.update(COHORT_PARAMS, tiers=list(TIERS))
    if scope.segment:
        where += " AND acc.segment = %(segment)s"
        params["segment"] = scope.segment
    sql = f"""
        WITH q AS MATERIALIZED ({SQL_QUALIFIED_CYCLES})
        SELECT CASE WHEN acc.tier = ANY(%(tiers)s) THEN acc.tier ELSE '' END AS tier,
               count(*) AS mql, count(*) FILTER (WHERE q.cycle_id IS NOT NULL) AS sql,
               count(*) FILTER (WHERE COALESCE(q.opp, false)) AS opp
        FROM people_leadcycle c
        JOIN people_contact ct ON ct.id = c.contact_id
        LEFT JOIN accounts_account acc ON acc.id = ct.account_id
        LEFT JOIN q ON q.cycle_id = c.id
        WHERE {where}
        GROUP BY 1"""
    return [{"contact__account__tier": row.pop("tier"), **row} for row in fetch_dicts(sql, params)]


def rep_names(ids) -> dict[int, str]:
    ids = [pk for pk in ids if pk is not None]
    return dict(Rep.objects.filter(pk__in=ids).values_list("pk", "owner_name")) if ids else {}


def accounts_by_owner(*, scope: Scope) -> dict[int, int]:
    if not history_mode():
        return books.accounts_by_owner(scope)
    qs = Account.objects.filter(owner__isnull=False, **scope.rep_filter("owner_id"))
    return dict(qs.values("owner_id").annotate(n=Count("id")).order_by().values_list("owner_id", "n"))


def activities_by_rep(*, scope: Scope) -> dict[int, int]:
    """Non-automated activities per rep in the period, from the hourly rollup."""
    return activities_by_rep_history(scope=scope) if history_mode() else kept.activities_by_rep(scope)


def activities_by_rep_history(*, scope: Scope) -> dict[int, int]:
    return dict(_activities(scope=scope).values("rep_id").annotate(n=Count("id")).order_by().values_list("rep_id", "n"))


# -- off-hours leads (issue 22 item 5) -------------------------------------------------------
#
# A lead arrives off-hours when its arrival, in the assigned rep's time zone, falls outside the
# business hours of the SLA policy its cycle was given: not a working day, a public holiday of
# the policy's country, before business_start or at/after business_end. Arrival is the cycle's
# creation or its assignment, whichever is earlier (an SLA re-assignment moves assigned_at, not
# the moment the lead came in). Cycles without a policy (no SLA: outbound pulls) have no hours
# and are left out of these figures.

SQL_OFF_HOURS = """
    WITH hol AS (SELECT * FROM unnest(%(hol_policy)s::bigint[], %(hol_day)s::date[]) AS h(policy_id, day)),
    x AS MATERIALIZED (
        SELECT c.source, loc.arrival, loc.local_at,
               NOT ((extract(isodow FROM loc.local_at)::int - 1)
                        = ANY(string_to_array(replace(p.working_days, ' ', ''), ',')::int[])
                    AND loc.local_at::time >= p.business_start AND loc.local_at::time < p.business_end
                    AND NOT EXISTS (SELECT 1 FROM hol WHERE hol.policy_id = p.id AND hol.day = loc.local_at::date))
                   AS off_hours,
               (c.first_touch_at IS NOT NULL AND NOT c.bypassed_working) AS responded,
               EXTRACT(EPOCH FROM COALESCE(c.response_time, c.first_touch_at - c.assigned_at)) AS response_s,
               EXTRACT(EPOCH FROM c.first_touch_at - loc.arrival) AS calendar_s
        FROM people_leadcycle c
        JOIN people_slapolicy p ON p.id = c.sla_policy_id
        LEFT JOIN people_rep r ON r.id = c.rep_id
        CROSS JOIN LATERAL (SELECT LEAST(c.created_at, c.assigned_at) AS arrival,
                                   LEAST(c.created_at, c.assigned_at) AT TIME ZONE COALESCE(r.time_zone, 'UTC')
                                       AS local_at) loc
        WHERE {where})
    """ + lead_reads.OFF_HOURS_FIGURES


def _holiday_pairs(*, scope: Scope) -> tuple[list[int], list[dt.date]]:
    """(policy id, day) for each public holiday of the policies with a holiday country, over the
    period (a day either side: a rep's local date can differ from the server's)."""
    ids, days = [], []
    first, last = scope.date_from - dt.timedelta(days=1), scope.date_to + dt.timedelta(days=1)
    for pk, country, subdivision in SlaPolicy.objects.exclude(holiday_country="").values_list(
            "pk", "holiday_country", "holiday_subdivision"):
        for day in holidays_between(country, subdivision, first, last):
            ids.append(pk)
            days.append(day)
    return ids, days


def off_hours_sets(*, scope: Scope) -> dict[str, list[dict]]:
    """Leads arriving off-hours and the response times of off- and in-hours leads, by source,
    by week (of arrival, Monday start) and in total: two statements (the policies' holidays,
    then one pass over the period's cycles)."""
    from django.utils import timezone

    where, params = _cycle_where(scope)
    params["hol_policy"], params["hol_day"] = _holiday_pairs(scope=scope)
    params["tz"] = timezone.get_current_timezone_name()
    if history_mode():
        rows = fetch_dicts(SQL_OFF_HOURS.format(where=where), params)
    else:  # the window's arrival facts: the same rule, no time zone conversion per cycle
        rows = lead_reads.off_hours_rows(scope=scope, params={k: params[k] for k in ("hol_policy", "hol_day", "tz")})
    out: dict[str, list[dict]] = {"source": [], "week": [], "total": []}
    for row in rows:
        row["in_median_s"], row["in_p90_s"] = row.pop("in_pct") or (None, None)
        row["off_median_s"], row["off_p90_s"] = row.pop("off_pct") or (None, None)
        key = "source" if not row["g_source"] else "week" if not row["g_week"] else "total"
        out[key].append(row)
    return out
