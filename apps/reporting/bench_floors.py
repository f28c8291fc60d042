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
}
