"""Why a report page misses its issue-16 target where it does: the floor, in words, per page slug.

The report-pages bench prints the measured figures and the slowest statements of every miss;
these notes say what grows with the data underneath them (measured with EXPLAIN ANALYZE on the
1M bench organisation), so a reader knows whether the miss is work left or the nature of the
number. Keep each note to what was measured; delete it when the page holds its targets.
"""

FLOORS: dict[str, str] = {
    "campaigns": (
        "Counts, outcomes and the similar cohort come from day rollups (reporting_cycleday, _campaignoutcomeday, "
        "_campaigntouchday; 2,867 → 4,480 cycle-day rows for the 90 days, 100k → 1M). What still grows is the two "
        "numbers no sum gives, each read index-only from its covering partial index (migration "
        "0029_camp_report_indexes): the median response reads the window's responded campaign cycles, 4,726 → 40,386 "
        "rows (EXPLAIN ANALYZE: 3.5 → 37 ms, most of it percentile_cont's sort per campaign), and opportunities / "
        "pipeline / won deals read the window's campaign cycles flagged Opp and their qualified meetings, 722 → 6,028 "
        "(3.4 → 23 ms), because an opportunity counts once per campaign however many of its cycles it came from. "
        "Together ~60 of the statement's ~80 ms at 1M. Next step: a per-(campaign, opportunity) fact whose unshared "
        "rows are summed per day and whose shared ones are read raw; the median would need a rank index per campaign."
    ),
    "nurture": (
        "Both statements are now bounded reads (in nurture: reporting_nurtureday / _nurturedueday plus the facts of "
        "the band cut-off and median days; recycled: the window's cycles numbered 2 or more) and the page holds its "
        "growth target (1M ≈ 100k). It misses page ÷ SQL: its SQL is 14-17 ms at 1M, and the request spends a fixed "
        "~18 ms outside the database (cProfile: Django templates ~8 ms, utils ~6 ms, the ORM ~5 ms; 23-33 ms at 100k), "
        "which no database change removes; 1.2× of a 15 ms SQL leaves 3 ms for rendering."
    ),
}
