"""The report rollups (apps.reporting.models: CycleDay, ActivityHour, FirstTouch, ResearchDay, BookCount,
MeetingDay, EnrolmentFact, EnrolmentDay, EnrolmentStepDay, OpportunityDay, ReturnDay, SegmentChangeDay,
MarketCount, TierCycleDay, OpenLeadCount, and the other day rollups and facts registered below)
and the report flags on each lead cycle: rebuild them from history, or check that what the
triggers keep equals that rebuild.

The triggers (migration 0005) keep everything current on every write; these two functions are
for ops after a restore, a bulk repair made with the triggers disabled, or a doubt:
`manage.py rebuild_report_rollups [--check]` (docs/reports.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from apps.reporting.cadence_reads import REBUILD as EXCEPTION_ENROLMENT_REBUILD
from apps.reporting.cadence_reads import SNAPSHOTS as EXCEPTION_ENROLMENT_SNAPSHOTS
from apps.reporting.fairness_reads import REBUILD as ROUTING_DAY_REBUILD
from apps.reporting.fairness_reads import SNAPSHOTS as ROUTING_DAY_SNAPSHOTS
from apps.reporting.handle_days import REBUILD as HANDLE_DAY_REBUILD
from apps.reporting.handle_days import SNAPSHOTS as HANDLE_DAY_SNAPSHOTS
from apps.reporting.icp_reads import REBUILD as ICP_REBUILD
from apps.reporting.icp_reads import SNAPSHOTS as ICP_SNAPSHOTS
from apps.reporting.lead_reads import REBUILD as LEAD_REBUILD
from apps.reporting.lead_reads import SNAPSHOTS as LEAD_SNAPSHOTS
from apps.reporting.market_reads import REBUILD as MARKET_REBUILD
from apps.reporting.market_reads import SNAPSHOTS as MARKET_SNAPSHOTS
from apps.reporting.rollups_programs import PROGRAM_REBUILD, PROGRAM_SNAPSHOTS
from apps.reporting.sales_reads import REBUILD as EXCEPTION_MEETING_REBUILD
from apps.reporting.sales_reads import SNAPSHOTS as EXCEPTION_MEETING_SNAPSHOTS

# What each maintained table holds, as comparable rows (zero rows are no data: readers skip them).
SNAPSHOTS = {
    "lead cycle flags": "SELECT id, is_sql, is_opp, sla_breached, campaign_record_id FROM people_leadcycle",
    "cycles per day": ("SELECT day, rep_id, source, lead_type, campaign_id, assigned, picked_up, responded, qualified, "
                       "opp, breaches, no_touch FROM reporting_cycleday WHERE assigned <> 0"),
    "activities per hour": "SELECT hour, rep_id, activities FROM reporting_activityhour WHERE activities <> 0",
    "first touches": "SELECT rep_id, account_id, first_outreach_at, first_research_at FROM reporting_firsttouch",
    "research per day": "SELECT day, rep_id, reached, researched FROM reporting_researchday WHERE reached <> 0",
    "enrolment facts": ("SELECT enrolment_id, enrolled_at, rep_id, cadence_id, lead_cycle_id, state, done, positions, outcomes "
                        "FROM reporting_enrolmentfact"),
    "enrolments per day": ("SELECT day, rep_id, cadence_id, state, done, enrolments FROM reporting_enrolmentday "
                           "WHERE enrolments <> 0"),
    "enrolment steps per day": ("SELECT day, rep_id, cadence_id, position, outcome, state, steps "
                                "FROM reporting_enrolmentstepday WHERE steps <> 0"),
    "meetings per day": ("SELECT day, sdr_id, ae_id, status, late, meetings FROM reporting_meetingday "
                         "WHERE meetings <> 0"),
    "opportunities per day": ("SELECT kind, day, sdr_id, stage_id, opportunities, amount, priced FROM reporting_opportunityday "
                              "WHERE ROW(opportunities, amount, priced) <> ROW(0, 0, 0)"),
    "returns per day": "SELECT day, rep_id, reason, status, outcome, returns FROM reporting_returnday WHERE returns <> 0",
    # Append-only (migration 0041): a key's rows summed, as every reader sums them.
    "books": ("SELECT owner_id, segment, tier, status, matched, band, sum(accounts)::int FROM reporting_bookcount "
              "GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(accounts) <> 0"),
    **MARKET_SNAPSHOTS,
    **PROGRAM_SNAPSHOTS,
    **HANDLE_DAY_SNAPSHOTS,
    **ROUTING_DAY_SNAPSHOTS,
    **EXCEPTION_MEETING_SNAPSHOTS,
    **EXCEPTION_ENROLMENT_SNAPSHOTS,
    **ICP_SNAPSHOTS,
    **LEAD_SNAPSHOTS,
}


@dataclass(frozen=True)
class RollupDifference:
    table: str
    missing: int  # rows the rebuild makes that the kept table lacks
    extra: int  # rows the kept table has that the rebuild does not make


class _Rollback(Exception):
    pass


def rollups_rebuild() -> None:
    """Recompute the flags and every rollup from history, in one transaction (set-based: one
    pass over lead cycles, meetings, breaches, campaign links and activities)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT reporting_rollups_rebuild()")
        cursor.execute(MARKET_REBUILD)
        cursor.execute(PROGRAM_REBUILD)
        cursor.execute(HANDLE_DAY_REBUILD)
        cursor.execute(ROUTING_DAY_REBUILD)
        cursor.execute(EXCEPTION_MEETING_REBUILD)
        cursor.execute(EXCEPTION_ENROLMENT_REBUILD)
        cursor.execute(ICP_REBUILD)  # after the flags (reporting_rollups_rebuild) it reads
        cursor.execute(LEAD_REBUILD)


def books_compact() -> int:
    """Fold the books rollup's rows back into one a key (it is append-only: migration 0041);
    returns how many rows went. Safe to run twice, or beside the writers: rows they add while it
    runs stay as they are."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT reporting_bookcount_compact()")
        return cursor.fetchone()[0]


def rollups_check() -> list[RollupDifference]:
    """Rebuild inside a transaction that is rolled back, and compare: [] when the kept rollups
    equal the from-scratch computation, else per table how many rows differ."""
    differences: list[RollupDifference] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for index, sql in enumerate(SNAPSHOTS.values()):
                cursor.execute(f"CREATE TEMP TABLE reporting_kept_{index} ON COMMIT DROP AS {sql}")
            cursor.execute("SELECT reporting_rollups_rebuild()")
            cursor.execute(MARKET_REBUILD)
            cursor.execute(PROGRAM_REBUILD)
            cursor.execute(HANDLE_DAY_REBUILD)
            cursor.execute(ROUTING_DAY_REBUILD)
            cursor.execute(EXCEPTION_MEETING_REBUILD)
            cursor.execute(EXCEPTION_ENROLMENT_REBUILD)
            cursor.execute(ICP_REBUILD)
            cursor.execute(LEAD_REBUILD)
            for index, (name, sql) in enumerate(SNAPSHOTS.items()):
                cursor.execute(f"SELECT count(*) FROM ({sql} EXCEPT ALL SELECT * FROM reporting_kept_{index}) d")
                missing = cursor.fetchone()[0]
                cursor.execute(f"SELECT count(*) FROM (SELECT * FROM reporting_kept_{index} EXCEPT ALL {sql}) d")
                extra = cursor.fetchone()[0]
                if missing or extra:
                    differences.append(RollupDifference(name, missing, extra))
            raise _Rollback
    except _Rollback:
        pass
    return differences
