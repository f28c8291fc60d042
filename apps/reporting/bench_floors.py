"""Why a report page misses its issue-16 target where it does: the floor, in words, per page slug.

The report-pages bench prints the measured figures and the slowest statements of every miss;
these notes say what grows with the data underneath them (measured with EXPLAIN ANALYZE on the
1M bench organisation), so a reader knows whether the miss is work left or the nature of the
number. Keep each note to what was measured; delete it when the page holds its targets.
"""

FLOORS: dict[str, str] = {
    "campaigns": (
        "Counts, outcomes, opportunities / pipeline / won deals and the similar cohort come from day rollups "
        "(reporting_cycleday, _campaignoutcomeday, _campaignoppday, _campaigntouchday; 2,867 → 4,480 cycle-day rows "
        "for the 90 days, 100k → 1M, as the days fill up with reps, sources and campaigns). What still grows with the "
        "organisation is the one number no sum gives: the median response reads the window's responded campaign "
        "cycles index-only from their covering partial index (migration 0029_camp_report_indexes), 4,726 → 40,386 rows; "
        "EXPLAIN ANALYZE at 1M: 44 of the statement's 75 ms, most of it percentile_cont's sort per campaign (3.5 ms at "
        "100k). A response-time histogram rollup cannot give the exact median (the page shows it to 0.1 h, and a "
        "value can sit on a rounding edge); an exact one would need a rank structure per campaign and window."
    ),
    "nurture": (
        "Both statements are now bounded reads (in nurture: reporting_nurtureday / _nurturedueday plus the facts of "
        "the band cut-off and median days; recycled: the window's cycles numbered 2 or more) and the page holds its "
        "growth target (1M ≈ 100k). It misses page ÷ SQL: its SQL is 14-17 ms at 1M, and the request spends a fixed "
        "~18 ms outside the database (cProfile: Django templates ~8 ms, utils ~6 ms, the ORM ~5 ms; 23-33 ms at 100k), "
        "which no database change removes; 1.2× of a 15 ms SQL leaves 3 ms for rendering."
    ),
}
