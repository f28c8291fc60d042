"""Why a report page misses its issue-16 target where it does: the floor, in words, per page slug.

The report-pages bench prints the measured figures and the slowest statements of every miss;
these notes say what grows with the data underneath them (measured with EXPLAIN ANALYZE on the
1M bench organisation), so a reader knows whether the miss is work left or the nature of the
number. Keep each note to what was measured; delete it when the page holds its targets.
"""

_SMALL_SQL = ("the page's SQL is a few milliseconds at both sizes and reads only rollups and bounded slices; "
              "what is left is the admin page's own rendering (django/template, django/db, django/utils: "
              "20–40 ms at both sizes on this shared 2-core machine, the same rows at both sizes), so page ÷ SQL "
              "is far above 1.2 against a tiny denominator without growing")

FLOORS: dict[str, str] = {
    "balance": ("the median handle time is no sum: it reads the window's dispositioned cycles with a touch "
                "(reporting_handlefact through its covering partial index reporting_handlefact_touched): 3,235 rows at "
                "100k, 27,439 at 1M for the 90-day window (8.5×), and the statement follows them (11 ms → 120–130 ms "
                "measured back to back at load ~6, the same as the earlier single statement); the counts and means read "
                "the day rollup reporting_handleday in 2–7 ms at 1M. The open-inbound-leads COUNT per rep (35–90 ms at 1M) "
                "is the lead-response helper's."),
    "cadences": ("the step table reads the reached steps per day and cadence (ops: 1,360 rows in the 90-day window at "
                 "100k, 1,876 at 1M) or per rep (a manager: a team's share of 4,209 → 10,711 rows) instead of "
                 "reporting_enrolmentstepday's 58,492 index entries; the exception enrolments it subtracts come from "
                 "reporting_exceptionenrolment (3 ms, was a 40 ms hash join). What still grows is the summary statement's "
                 "reporting_enrolmentday rows (per day, rep, cadence, state and steps done) and the page's fixed rendering: "
                 "page ÷ SQL stays above 1.2 for a page whose SQL is 5–20 ms."),
    "capacity": _SMALL_SQL + " (1M SQL 5–9 ms; its one growing statement, handle times, now reads reporting_handleday).",
    "exceptions": _SMALL_SQL + " (the list is the newest 50; counts per reason read a covering partial index, 0.75 ms).",
    "fairness": _SMALL_SQL + " (every statement ≤ 3 ms at 1M: routing day rollups, reporting_bookcount, the newest skips "
                "from a partial time index).",
    "meetings": _SMALL_SQL + " (1M SQL 8–15 ms: reporting_meetingday's window rows and the exception meetings' day rollup).",
    "icp-coverage": (
        "Conversion by tier reads reporting_tiercycleday (4 ms as ops, 11 ms as a manager at 1M; it was 311 ms). What is "
        "left is the \"worked\" figures (worked accounts, their average score, tier A contacted): distinct accounts with a "
        "real activity by a rep in scope in the window, which no sum of day or rep rows gives (an account worked by two reps "
        "or on two days counts once). EXPLAIN ANALYZE of icp_coverage_by_owner (90-day window, 2-core machine at load 3-6): "
        "as ops the window's activities 23.4k rows at 100k -> 201k at 1M (8.6x) collapse to 11.6k -> 100.8k distinct "
        "accounts (8.7x), each joined to its account for owner, tier and score now; as manager.east 11.7k -> 101.7k "
        "activities, 5.9k -> 52.1k accounts. The statement's time follows those rows (the bookcount part is a few hundred rows "
        "at both sizes, 331 and 361). Making it flat would need a per-account \"previous activity\" chain kept per scope (all reps, "
        "each team, each rep, and again for outreach types), so that the distinct accounts of a window are the window's "
        "activities whose account's previous one is before it - summed per day pair, owner, tier and score now; not done."
    ),
    "account-coverage": (
        "A snapshot per owner of every owned account's coverage (contacts, distinct buying roles and personas against "
        "the editable coverage settings), engagement (touches in the last engagement_window_days and the latest within "
        "recency_days of now) and leads in the funnel. The contact side is kept per account (reporting_accountcontacts: "
        "the books' 289k contacts at 1M are no longer read per request; with the page's session settings, old and new "
        "statement interleaved: 1.6-2.1 s -> 0.63-0.83 s at 1M, 89-254 -> 40-101 ms at 100k). What is left grows with the data by nature: the quadrant is per "
        "account (covered AND engaged) and engaged moves with the clock, so the page joins every owned account (11.1k "
        "at 100k -> 96.4k at 1M, 8.6x) to its kept contact row and to the engagement window's touches grouped per "
        "account (6.1k -> 52.7k touches over 4.9k -> 43.0k accounts, 8.6x). EXPLAIN ANALYZE as ops at 1M (2-core "
        "machine at load 8): owned accounts 145 ms, kept contact rows 98 ms, touches 166 ms, the per-account "
        "quadrants and the per-owner counts the rest. Per-owner counts of (contacts, role set, persona set) would "
        "make accounts and covered flat, but covered AND engaged still needs each engaged account, which grows with "
        "the activity volume."
    ),
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
