"""Inbound / outbound balance (issue 22 item 2, the SPA framework: "inbound leads can be used
to top off a rep's book"): each rep's activity split into inbound and outbound work against
the team's goals (leads.TeamActivityGoals), the book split (accounts owned vs open inbound
leads), and the handle time per lead type that the capacity planner turns into "how much
outbound a rep can carry". Computed by PostgreSQL, a fixed number of statements.

Which work is inbound: a touch on a contact whose latest lead cycle assigned at or before the
touch is an inbound one. Touches on outbound and target-account leads, on contacts without a
cycle, and account work without a contact are outbound. Touches on a cycle marked an
exception are left out, like every other number."""

from __future__ import annotations

from apps.leads.models import LeadCycle, LeadType, TeamActivityGoals
from apps.leads.services.cycles import WORK_ACTIVITY_TYPES
from apps.reporting import handle_days, lead_reads
from apps.reporting import rollups_programs as kept
from apps.reporting.rollup_reads import history_mode
from apps.reporting.selectors import SQL_COUNTED, _activity_where, fetch_dicts
from sdrops.api.scope import Scope

SQL_ACTIVITY_SPLIT = """
    SELECT a.rep_id,
           count(*) FILTER (WHERE lc.lead_type = %(inbound)s) AS inbound,
           count(*) FILTER (WHERE lc.lead_type IS DISTINCT FROM %(inbound)s) AS outbound
    FROM accounts_activity a
    LEFT JOIN LATERAL (SELECT c.lead_type, c.exception_at FROM people_leadcycle c
                       WHERE c.contact_id = a.contact_id AND c.assigned_at <= a.occurred_at
                       ORDER BY c.assigned_at DESC, c.id DESC LIMIT 1) lc ON true
    WHERE {where} AND lc.exception_at IS NULL
    GROUP BY a.rep_id"""


def activity_split(*, scope: Scope) -> dict[int, dict]:
    """rep id → {inbound, outbound}: the period's non-automated activities, one statement (from
    the daily rollup and the window's partial days: rollups_programs; from history within
    rollup_reads.from_history())."""
    if not history_mode():
        return kept.activity_split(scope=scope, raw_sql=SQL_ACTIVITY_SPLIT, inbound=LeadType.INBOUND.value)
    where, params = _activity_where(scope)
    params["inbound"] = LeadType.INBOUND.value
    return {row["rep_id"]: row for row in fetch_dicts(SQL_ACTIVITY_SPLIT.format(where=where), params)}


def open_inbound_leads(*, rep_ids) -> dict[int, int]:
    """rep id → open inbound lead cycles held now (exceptions left out), from the open-lead
    rollup (lead_reads); from the cycles themselves in history mode."""
    from django.db.models import Count

    if not history_mode():
        return lead_reads.open_leads_by_rep(lead_type=LeadType.INBOUND, rep_ids=rep_ids)
    qs = LeadCycle.objects.open().counted().filter(lead_type=LeadType.INBOUND)
    if rep_ids is not None:
        qs = qs.filter(rep_id__in=list(rep_ids))
    return dict(qs.values("rep_id").annotate(n=Count("pk")).order_by().values_list("rep_id", "n"))


def goals_by_team() -> dict[int, TeamActivityGoals]:
    return {g.team_id: g for g in TeamActivityGoals.objects.all()}


SQL_HANDLE = """
    SELECT GROUPING(c.rep_id) AS g_rep, c.rep_id, c.lead_type,
           count(*) AS dispositions,
           coalesce(sum(t.touches), 0) AS touches,
           count(*) FILTER (WHERE c.first_touch_at IS NOT NULL) AS handled,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM c.dispositioned_at - c.first_touch_at))
               FILTER (WHERE c.first_touch_at IS NOT NULL) AS handle_median_s,
           avg(EXTRACT(EPOCH FROM c.dispositioned_at - c.first_touch_at))
               FILTER (WHERE c.first_touch_at IS NOT NULL) AS handle_avg_s
    FROM people_leadcycle c
    LEFT JOIN LATERAL (SELECT count(*) AS touches FROM accounts_activity a
                       WHERE a.contact_id = c.contact_id AND NOT a.automated AND a.type = ANY(%(work)s)
                         AND a.occurred_at >= c.assigned_at AND a.occurred_at <= c.dispositioned_at) t ON true
    WHERE {where}
    GROUP BY GROUPING SETS ((c.lead_type), (c.rep_id, c.lead_type))"""


def handle_times(*, scope: Scope, medians: bool = True) -> dict[str, list[dict]]:
    """Per lead type (and per rep and lead type), over the cycles dispositioned in the period:
    dispositions, real touches from assignment to disposition, and the time from first touch
    to disposition (median, mean; cycles dispositioned without a touch have none). From the
    handle facts' day rollup (handle_days; the median, which `medians=False` leaves out, from
    the window's facts), or from history within rollup_reads.from_history()."""
    where = ["c.dispositioned_at >= %(start)s", "c.dispositioned_at < %(end)s", SQL_COUNTED.format(alias="c")]
    params = {"start": scope.start, "end": scope.end, "work": list(WORK_ACTIVITY_TYPES)}
    if scope.rep_ids is not None:
        where.append("c.rep_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(scope.rep_ids)
    if scope.lead_type:
        where.append("c.lead_type = %(lead_type)s")
        params["lead_type"] = scope.lead_type
    out: dict[str, list[dict]] = {"lead_type": [], "rep": []}
    rows = (fetch_dicts(SQL_HANDLE.format(where=" AND ".join(where)), params) if history_mode()
            else handle_days.handle_rows(scope=scope, medians=medians))
    for row in rows:
        row["touches_per_disposition"] = row["touches"] / row["dispositions"] if row["dispositions"] else None
        for key in ("handle_median_s", "handle_avg_s"):
            row[key] = None if row[key] is None else float(row[key])
        out["rep" if not row["g_rep"] else "lead_type"].append(row)
    return out


def outbound_capacity(*, inbound_per_day: int, outbound_per_day: int, working_days: int, inbound_leads: float,
                      touches_per_inbound: float | None, touches_per_outbound: float | None) -> dict:
    """How much outbound a rep can carry next to `inbound_leads` inbound leads a month: the
    team's goals give the touches a rep makes a month, (inbound + outbound per day) × working
    days; the inbound leads take inbound_leads × touches per inbound disposition; what is left,
    ÷ touches per outbound disposition, is the outbound leads a month the rep can still work."""
    monthly = (inbound_per_day + outbound_per_day) * working_days
    if touches_per_inbound is None or touches_per_outbound is None or touches_per_outbound <= 0:
        return {"monthly_touches": monthly, "inbound_touches": None, "left": None, "outbound_leads": None}
    inbound_touches = inbound_leads * touches_per_inbound
    left = max(monthly - inbound_touches, 0)
    return {"monthly_touches": monthly, "inbound_touches": inbound_touches, "left": left,
            "outbound_leads": int(left // touches_per_outbound)}
