"""The numbers behind the report pages: aggregates computed by PostgreSQL.

Every function takes a `Scope` (time window, reps in scope, segment, lead type) and runs a
fixed number of queries whatever the data size: counts with FILTER, percentiles with
`percentile_cont`, one GROUP BY per breakdown. Python only lines the results up and divides.
"""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Avg, Count, Exists, Max, OuterRef, Q
from django.db.models.functions import TruncDate, TruncWeek

from apps.accounts.models import Account, Activity, ActivityType
from apps.people.models import Rep
from apps.reporting.filters import Scope

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
    """One row per rep of the roster (zeros where the query found nothing), plus any other rep
    the query found (e.g. a manager who worked leads), plus unassigned records last."""
    found = {row[key]: row for row in rows}
    out = []
    for rep in reps:
        row = found.pop(rep["pk"], None)
        out.append({**zero, **(row or {}), "rep_id": rep["pk"], "rep": rep["owner_name"]})
    extra = sorted(found.values(), key=lambda r: (r[key] is None, str(r.get(name) or "")))
    for row in extra:
        out.append({**zero, **row, "rep_id": row[key], "rep": row.get(name) or "(unassigned)"})
    return out


# -- territory ------------------------------------------------------------------------------

def territory_by_owner(*, scope: Scope) -> list[dict]:
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


def activity_daily_counts(*, scope: Scope, activity_type: str = "") -> list[dict]:
    """Non-automated activities per rep per local day."""
    qs = _activities(scope=scope)
    if activity_type:
        qs = qs.filter(type=activity_type)
    return list(qs.annotate(day=TruncDate("occurred_at")).values("rep_id", "day").annotate(n=Count("id")).order_by())


def activity_weekly_counts(*, scope: Scope, activity_type: str = "") -> list[dict]:
    qs = _activities(scope=scope)
    if activity_type:
        qs = qs.filter(type=activity_type)
    return list(qs.annotate(week=TruncWeek("occurred_at")).values("rep_id", "week").annotate(n=Count("id")).order_by())


def activity_research_first(*, scope: Scope) -> list[dict]:
    """Per rep: accounts whose first outreach by that rep (ever) fell in the period, and how
    many of them had an `intelligence_run` by the same rep before it."""
    from django.db import connection

    rep_clause, params = "", [list(OUTREACH_TYPES), scope.start, scope.end]
    if scope.rep_ids is not None:
        rep_clause = "AND a.rep_id = ANY(%s)"
        params.append(list(scope.rep_ids))
    sql = f"""
        WITH firsts AS (
            SELECT a.rep_id, a.account_id, min(a.occurred_at) AS first_at
            FROM accounts_activity a
            WHERE a.type = ANY(%s) AND NOT a.automated AND a.account_id IS NOT NULL AND a.rep_id IS NOT NULL
              AND a.occurred_at >= %s AND a.occurred_at < %s {rep_clause}
            GROUP BY a.rep_id, a.account_id
        )
        SELECT f.rep_id,
               count(*) AS first_outreach,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM accounts_activity i
                   WHERE i.account_id = f.account_id AND i.rep_id = f.rep_id
                     AND i.type = 'intelligence_run' AND i.occurred_at < f.first_at)) AS researched
        FROM firsts f
        WHERE NOT EXISTS (
            SELECT 1 FROM accounts_activity e
            WHERE e.account_id = f.account_id AND e.rep_id = f.rep_id AND e.type = ANY(%s)
              AND NOT e.automated AND e.occurred_at < %s)
        GROUP BY f.rep_id
    """
    params += [list(OUTREACH_TYPES), scope.start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [{"rep_id": r[0], "first_outreach": r[1], "researched": r[2]} for r in cursor.fetchall()]


def activity_last_deal(*, scope: Scope) -> dict[int, dt.datetime]:
    """Per rep: when they last created an opportunity (a `deal_created` activity), up to the period's end."""
    qs = Activity.objects.filter(type=ActivityType.DEAL_CREATED, occurred_at__lt=scope.end, **scope.rep_filter())
    return {row["rep_id"]: row["last"] for row in qs.values("rep_id").annotate(last=Max("occurred_at")).order_by()
            if row["rep_id"] is not None}


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
    total score of accounts worked in the period (a real activity by anyone in scope)."""
    worked = _activities(scope=scope).filter(account_id=OuterRef("pk"))
    contacted = worked.filter(type__in=OUTREACH_TYPES)
    qs = _scoped_accounts(scope=scope).annotate(worked=Exists(worked), contacted=Exists(contacted))
    return list(
        qs.values("owner_id", "owner__owner_name").annotate(
            accounts=Count("id"),
            matched=Count("id", filter=Q(matched_icp__isnull=False)),
            worked_accounts=Count("id", filter=Q(worked=True)),
            avg_score_worked=Avg("total_score", filter=Q(worked=True)),
            tier_a=Count("id", filter=Q(tier="A")),
            tier_a_contacted=Count("id", filter=Q(tier="A", contacted=True)),
        ).order_by()
    )


def icp_score_histogram(*, scope: Scope) -> list[dict]:
    """Accounts per band of ten total-score points (90-100 is one band)."""
    from django.db.models import IntegerField, Value
    from django.db.models.functions import Cast, Least

    band = Least(Cast("total_score", IntegerField()) / Value(10), Value(9))
    return list(_scoped_accounts(scope=scope).annotate(band=band).values("band").annotate(n=Count("id")).order_by("band"))


# -- lead cycles: lead response and the funnel ---------------------------------------------

def lead_cycles_in_cohort(*, scope: Scope):
    """Cycles assigned in the period (the cohort of the period they were assigned in), to reps
    in scope, of the chosen lead type. A recycled lead is a new cycle: it counts once per cycle."""
    from apps.people.models import LeadCycle

    qs = LeadCycle.objects.filter(assigned_at__gte=scope.start, assigned_at__lt=scope.end, **scope.rep_filter())
    if scope.lead_type:
        qs = qs.filter(lead_type=scope.lead_type)
    return qs


def picked_up_q() -> Q:
    """Picked up: reached working, or was dispositioned (a bypass counts as picked up)."""
    return Q(worked_at__isnull=False) | Q(dispositioned_at__isnull=False)


def responded_q() -> Q:
    """Cycles that count in response time: a real first touch, not bypassed."""
    return Q(first_touch_at__isnull=False, bypassed_working=False)


def response_seconds():
    from django.db.models import DurationField, ExpressionWrapper, F
    from django.db.models.functions import Extract

    return Extract(ExpressionWrapper(F("first_touch_at") - F("assigned_at"), output_field=DurationField()), "epoch")


def qualified_q() -> Q:
    from apps.people.models import LeadCycle

    return Q(disposition=LeadCycle.Disposition.QUALIFIED)


def lead_response_aggregates() -> dict:
    from apps.reporting.aggregates import PercentileCont

    responded = responded_q()
    return {
        "assigned": Count("id"),
        "picked_up": Count("id", filter=picked_up_q()),
        "responded": Count("id", filter=responded),
        "median_s": PercentileCont(response_seconds(), 0.5, filter=responded),
        "p90_s": PercentileCont(response_seconds(), 0.9, filter=responded),
        "qualified": Count("id", filter=qualified_q()),
        "no_touch": Count("id", filter=Q(dispositioned_at__isnull=False, first_touch_at__isnull=True)),
    }


LEAD_RESPONSE_GROUPS = {"rep": ("rep_id", "rep__owner_name"), "source": ("source",), "lead_type": ("lead_type",)}


def lead_response_by(*, scope: Scope, group: str) -> list[dict]:
    fields = LEAD_RESPONSE_GROUPS[group]
    return list(lead_cycles_in_cohort(scope=scope).values(*fields).annotate(**lead_response_aggregates()).order_by())


def lead_response_total(*, scope: Scope) -> dict:
    return lead_cycles_in_cohort(scope=scope).aggregate(**lead_response_aggregates())


def funnel_annotated(qs):
    """Marks each cycle SQL (a Completed – Qualified meeting booked in it) and Opp (such a
    meeting's opportunity reached the pipeline stage), whenever that happened."""
    from apps.meetings.models import Meeting

    qualified = Meeting.objects.filter(lead_cycle_id=OuterRef("pk"), status=Meeting.Status.COMPLETED_QUALIFIED)
    return qs.annotate(is_sql=Exists(qualified), is_opp=Exists(qualified.filter(opportunity__pipeline_at__isnull=False)))


def funnel_aggregates() -> dict:
    return {
        "mql": Count("id"),
        "sql": Count("id", filter=Q(is_sql=True)),
        "opp": Count("id", filter=Q(is_opp=True)),
        "campaigns": Count("campaign", distinct=True, filter=~Q(campaign="") & picked_up_q()),
    }


def funnel_by_rep(*, scope: Scope) -> list[dict]:
    qs = funnel_annotated(lead_cycles_in_cohort(scope=scope))
    return list(qs.values("rep_id", "rep__owner_name").annotate(**funnel_aggregates()).order_by())


def funnel_total(*, scope: Scope) -> dict:
    return funnel_annotated(lead_cycles_in_cohort(scope=scope)).aggregate(**funnel_aggregates())


def funnel_by_tier(*, scope: Scope) -> list[dict]:
    """The cohort's funnel by the tier of the lead's account (now)."""
    qs = funnel_annotated(lead_cycles_in_cohort(scope=scope))
    if scope.segment:
        qs = qs.filter(contact__account__segment=scope.segment)
    return list(qs.values("contact__account__tier").annotate(**funnel_aggregates()).order_by())


def accounts_by_owner(*, scope: Scope) -> dict[int, int]:
    qs = Account.objects.filter(owner__isnull=False, **scope.rep_filter("owner_id"))
    return dict(qs.values("owner_id").annotate(n=Count("id")).order_by().values_list("owner_id", "n"))


def activities_by_rep(*, scope: Scope) -> dict[int, int]:
    return dict(_activities(scope=scope).values("rep_id").annotate(n=Count("id")).order_by().values_list("rep_id", "n"))
