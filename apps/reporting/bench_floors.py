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
    "cadences": ("the step table reads reporting_enrolmentstepday's rows of the window, keyed per day, rep, cadence, "
                 "position, outcome and enrolment state: 58,492 index entries / 20,754 counted rows in the 90-day window "
                 "at 1M (7,225 rows at 100k) — nearly one row per enrolment step, so it grows with the enrolments until "
                 "that key saturates (EXPLAIN ANALYZE: 17–23 ms reading them, hash-grouped by cadence and position "
                 "since, where a sort by cadence name took another 20–30 ms); the exception enrolments it subtracts now come from reporting_exceptionenrolment "
                 "(3 ms, was a 40 ms hash join). A coarser step rollup (no rep or state for the ops view) is the next step."),
    "capacity": _SMALL_SQL + " (1M SQL 5–9 ms; its one growing statement, handle times, now reads reporting_handleday).",
    "exceptions": _SMALL_SQL + " (the list is the newest 50; counts per reason read a covering partial index, 0.75 ms).",
    "fairness": _SMALL_SQL + " (every statement ≤ 3 ms at 1M: routing day rollups, reporting_bookcount, the newest skips "
                "from a partial time index).",
    "meetings": _SMALL_SQL + " (1M SQL 8–15 ms: reporting_meetingday's window rows and the exception meetings' day rollup).",
}
