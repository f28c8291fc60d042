"""Why a report page misses its issue-16 target where it does: the floor, in words, per page slug.

The report-pages bench prints the measured figures and the slowest statements of every miss;
these notes say what grows with the data underneath them (measured with EXPLAIN ANALYZE on the
1M bench organisation), so a reader knows whether the miss is work left or the nature of the
number. Keep each note to what was measured; delete it when the page holds its targets.
"""

FLOORS: dict[str, str] = {
    "lead-response": (
        "What still grows is the percentiles, not the counts (the counts are from reporting_cycleday, the open-lead and "
        "clock-added breach reads are bounded): median and p90 response per rep, source and lead type, and the off-hours "
        "tables' in- and off-hours median, p90 and calendar wait per source and week. percentile_cont needs every value "
        "of a group sorted and the page shows them to 0.1 h, so no histogram rollup gives them exactly; they read the "
        "window's responded cycles (lead_cycle_responded, index-only, 0 heap fetches) and the window's arrival facts "
        "(reporting_arrivalfact: no per-cycle time zone conversion, no cycle-table scan). A 90-day window holds 4,791 "
        "responded cycles and 5,672 arrival facts at 100k activities, 40,559 and 48,610 at 1M (8.5x: the bench's lead "
        "volume grows with the organisation). EXPLAIN ANALYZE at 1M (shared 2-core machine, load ~5): reading the slices "
        "takes 12 ms (responded cycles) and 66 ms (arrival facts); the rest is the sorts, one per grouping set and "
        "percentile (4 sets x 1 for the response table, 3 sets x 4 for the off-hours ones; ~125 ms of the off-hours "
        "statement) — N log N in the window's cycles. A manager's team reads its reps' slice "
        "(reporting_cycle_responded_by_rep, reporting_arrivalfact_by_rep)."
    ),
    "scorecard": (
        "The open inbound leads are from reporting_openleadcount (one row per rep and lead type, was a count over every "
        "open cycle of the team) and the clock-added breaches from the overdue range of reporting_cycle_unbreached_open. "
        "What grows: the SDR's and the team's response median and p90, read from the team's responded cycles of the "
        "window (reporting_cycle_responded_by_rep, index-only) — 2,471 cycles at 100k, 21,469 at 1M for East's 5 SDRs "
        "over 90 days, sorted twice (per rep and for the team); the meetings read (apps.reporting.sales_reads."
        "meeting_counts), whose subtraction of exception cycles' meetings hash-joins the window's meetings (15,100 at 1M) "
        "with every exception cycle ever (5,192) — a rollup of those meetings per day would bound it (the meetings "
        "page's reader, not changed here); and ~30 ms of Python rendering at both sizes, which holds the page above "
        "1.2x its SQL."
    ),
}
