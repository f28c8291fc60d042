"""Why a report page misses its issue-16 target where it does: the floor, in words, per page slug.

The report-pages bench prints the measured figures and the slowest statements of every miss;
these notes say what grows with the data underneath them (measured with EXPLAIN ANALYZE on the
1M bench organisation), so a reader knows whether the miss is work left or the nature of the
number. Keep each note to what was measured; delete it when the page holds its targets.
"""

FLOORS: dict[str, str] = {
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
        "recency_days of now) and open lead cycles. EXPLAIN ANALYZE of coverage_by_owner as ops (2-core machine at load "
        "3-6): owned accounts 11.1k at 100k -> 96.4k at 1M (8.6x), their contacts 33.6k -> 289k (8.6x, about 60% of "
        "the statement), the engagement window's touches 6.1k -> 52.7k rows over 4.9k -> 43.0k accounts, open cycles "
        "7.4k -> 64.7k. Engaged moves with the clock and a quadrant is per account (covered AND engaged), so even with "
        "the contact side kept per account by triggers the page must read the engagement window's touches and look up "
        "each engaged account: those grow with the activity volume (8.6x here), which a 1.5x target cannot absorb. "
        "Keeping per-account contact / role / persona sets (and per-owner counts of them) would cut the contacts part; "
        "not done."
    ),
}
