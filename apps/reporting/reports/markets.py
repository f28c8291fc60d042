"""Two account pages from issue 22: the market segment view (ops: TAM / SAM / SOM and A-G,
movement, B accounts waiting for a data fix, G accounts proposed for removal) and account
coverage × engagement by rep (the Measurable Lead Model's four quadrants)."""

from __future__ import annotations

from django.utils import timezone

from apps.leads.models import LeadType
from apps.markets import selectors as markets
from apps.markets.coverage import (
    APPLIES_PER_LEAD_TYPE,
    TOUCH_TYPES,
    CoverageQuadrant,
    CoverageRules,
    coverage_by_owner,
)
from apps.markets.models import IN_CRM, SEGMENT_MARKET, Market, MarketSegment
from apps.people.models import Rep
from apps.reporting import book_reads as books
from apps.reporting import market_reads
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate
from sdrops.access import accounts_visible_to, rep_for_user, scoped_rep_ids, user_sees_everything

SEGMENT_DEFINITIONS = {
    "A": "Accounts you should be working but that are not in the CRM: marketing's job is to move them into B.",
    "B": "Accounts you should be working (sometimes you can't because the data is wrong): the enrolled accounts.",
    "C": "Accounts the team wants to work but can't service well yet: the shiny objects distracting from B.",
    "D": "Old crusty accounts from past experiments or before the ICP was refined: time wasters.",
    "E": "Look good on paper, but you're not ready to sell to them: don't market to them now.",
    "F": "Look good to investors, and that's pretty much it right now.",
    "G": "Cruft in the CRM with nothing to do with what you sell now or later: remove them.",
}


def _scope_accounts(scope):
    return None if user_sees_everything(scope.user) else accounts_visible_to(user=scope.user)


def _movement_owners(scope) -> tuple[bool, set[int] | None]:
    """(from the rollup?, owners of the accounts in scope — None: all). The rollup is kept per
    owner now, which is the scope of ops, managers and SDRs; an AE's (owned or held as opportunity
    or customer owner) is not, nor is history mode. With no team or rep filter the scope's reps
    are the user's visible reps (sdrops.api.scope), so no statement of its own."""
    user = scope.user
    if s.history_mode():
        return False, None
    if user_sees_everything(user):
        return True, None
    rep = rep_for_user(user)
    if rep is not None and rep.role == Rep.Role.AE:
        return False, None
    if scope.rep_ids is not None and not (scope.team or scope.rep):
        return True, set(scope.rep_ids)
    return True, scoped_rep_ids(user=user) or set()


def _movements(scope, accounts):
    rollup, owners = _movement_owners(scope)
    if rollup:
        return (market_reads.segment_movements(scope, owner_ids=owners),
                market_reads.segment_weekly_arrivals(scope, owner_ids=owners))
    weekly = markets.segment_weekly_arrivals(date_from=scope.date_from, date_to=scope.date_to, accounts=accounts)
    return (markets.segment_movements(date_from=scope.date_from, date_to=scope.date_to, accounts=accounts),
            [{**row, "week": row["week"].date()} for row in weekly])


@register
class MarketSegments(Report):
    slug = "market-segments"
    title = "Market segments"
    description = ("TAM / SAM / SOM and the A-G segments: accounts per segment, movement between segments, "
                   "B accounts waiting for a data fix, G accounts proposed for removal.")
    filters = ("date",)
    segment_filters_reps = False

    def compute(self, *, scope, params) -> Result:
        accounts = _scope_accounts(scope)
        rollup, owners = _movement_owners(scope)
        if rollup:
            counts = markets.SegmentCounts(**market_reads.segment_counts(owner_ids=owners, segments=MarketSegment.values))
        else:
            counts = markets.segment_counts(accounts=accounts)
        total = sum(counts.by_segment.values()) + counts.unclassified
        rows = []
        for value, label in MarketSegment.choices:
            rows.append({"segment": value, "name": label.split(" (")[0], "market": Market(SEGMENT_MARKET[value]).label.split(" (")[0],
                         "in_crm": "yes" if value in IN_CRM else "no", "accounts": counts.by_segment[value],
                         "share": rate(counts.by_segment[value], total), "enrolled": "enrolled" if value == "B" else "",
                         "definition": SEGMENT_DEFINITIONS[value]})
        rows.append({"segment": "—", "name": "Unclassified (no rule matches yet)", "market": "", "in_crm": "",
                     "accounts": counts.unclassified, "share": rate(counts.unclassified, total), "enrolled": "",
                     "definition": "Never enrolled; the next classification (or a new rule) decides."})
        segment_table = Table("segments", "Accounts per market segment", [
            Column("segment", "Segment", "text"),
            Column("name", "Name", "text"),
            Column("market", "Market", "text", "The innermost ring the segment is in: SOM ⊂ SAM ⊂ TAM (seed 003)."),
            Column("in_crm", "In the CRM", "text", "B, C, D and G are the CRM's inside world (sales); A, E and F the outside world (marketing)."),
            Column("accounts", "Accounts", "int", "Accounts whose effective segment (the override, else the rules) is this one, now."),
            Column("share", "Share", "pct", "Accounts ÷ all accounts.", 0),
            Column("enrolled", "Enrolled", "text", "Only B is enrolled: distributions, swaps and signal routing hand out nothing else (a targeted play excepted)."),
            Column("definition", "What it is", "text"),
        ], rows, total={"segment": "All", "accounts": total, "share": 1.0 if total else None})

        def ring(*letters):
            return sum(counts.by_segment[x] for x in letters)

        summary = [
            ("SOM (A + B)", str(ring("A", "B"))), ("SAM (SOM + C + E)", str(ring("A", "B", "C", "E"))),
            ("TAM (SAM + D + F)", str(ring("A", "B", "C", "D", "E", "F"))), ("Enrolled (B)", str(counts.by_segment["B"])),
            ("Manual overrides", str(counts.overridden)), ("Unclassified", str(counts.unclassified)),
        ]
        moves, arrivals = _movements(scope, accounts)
        movement = Table("movements", "Movement between segments in the period", [
            Column("from_segment", "From", "text", "Segment before the move (— : unclassified)."),
            Column("to_segment", "To", "text"),
            Column("moves", "Moves", "int", "Changes of effective segment in the period (segment history)."),
            Column("by_rules", "By rules", "int", "Moves made by the classification rules (nightly or “Classify now”)."),
            Column("by_hand", "By hand", "int", "Overrides set or removed by ops, each with its reason."),
        ], [{**m, "from_segment": m["from_segment"] or "—", "to_segment": m["to_segment"] or "—"} for m in moves],
            total={"from_segment": "All", "moves": sum(m["moves"] for m in moves),
                   "by_rules": sum(m["by_rules"] for m in moves), "by_hand": sum(m["by_hand"] for m in moves)} if moves else None)
        weekly: dict = {}
        for row in arrivals:
            week = weekly.setdefault(row["week"], {"week": row["week"], **{f"into_{x}": 0 for x in MarketSegment.values},
                                                           "into_none": 0})
            week[f"into_{row['to_segment']}" if row["to_segment"] else "into_none"] += row["n"]
        weeks = Table("weekly", "Moves into each segment per week", [
            Column("week", "Week of", "date", "Monday of the week (server time zone)."),
            *[Column(f"into_{x}", f"Into {x}", "int", f"Accounts that moved into {x} that week.") for x in MarketSegment.values],
            Column("into_none", "Unclassified", "int", "Accounts no rule matched any more."),
        ], [weekly[k] for k in sorted(weekly)])
        waiting = [{"account": r.account.name, "domain": r.account.domain or "", "rep": str(r.rep), "filed": r.created_at,
                    "status": "pending review" if r.status == "pending" else "held for data fixing", "note": r.note}
                   for r in markets.b_accounts_waiting_for_data_fix(accounts=accounts)]
        waiting_table = Table("waiting-fix", "B accounts returned for bad data, waiting for a fix", [
            Column("account", "Account", "text"), Column("domain", "Domain", "text"), Column("rep", "Returned by", "text"),
            Column("filed", "Filed", "datetime"),
            Column("status", "Status", "text", "Pending review, or approved and held for data fixing with no fix recorded yet "
                                               "(fix it, then “Data fixed” on the return puts it back in the pool)."),
            Column("note", "Rep's note", "text"),
        ], waiting, note="The most important accounts sales cannot work until ops fix the data (seed 003, segment B).")
        # The counts above are of the same accounts: with no G account among them the list is empty,
        # and its statement — every G account of the organisation, probed for the scope's owners —
        # is not run (for a manager it grew with the G accounts of every other team).
        garbage = [{"account": a.name, "domain": a.domain or "", "owner": str(a.owner or "pool"), "status": a.get_status_display(),
                    "why": (f"override: {a.market.override_reason}" if a.market.override_segment else
                            f"rule: {a.market.rule.name}" if a.market.rule else ""),
                    "since": a.market.classified_at}
                   for a in (markets.g_accounts_proposed_for_removal(accounts=accounts) if counts.by_segment["G"] else ())]
        garbage_table = Table("garbage", "G accounts proposed for removal", [
            Column("account", "Account", "text"), Column("domain", "Domain", "text"), Column("owner", "Owner", "text"),
            Column("status", "Status", "text"), Column("why", "Why G", "text", "The rule or the override (with its reason) that put it in G."),
            Column("since", "Classified", "datetime", "When the rules last changed their answer for the account."),
        ], garbage, note="Check and delete them from the accounts list (filter “market segment: G”); up to 200 shown, oldest first.")
        chart = bar_chart(labels=[*MarketSegment.values, "—"], datasets=[("Accounts", [r["accounts"] for r in rows])])
        return Result(tables=[segment_table, movement, weeks, waiting_table, garbage_table], chart=chart, summary=summary,
                      notes=["Classification rules and the nightly job: Markets → Market segment rules."])


@register
class AccountCoverage(Report):
    slug = "account-coverage"
    title = "Account coverage × engagement"
    description = "Accounts in each rep's book by the Measurable Lead Model's quadrants: Identify, Expand reach, Engage, Win."
    filters = ("team", "rep", "segment")
    segment_filters_reps = False

    def compute(self, *, scope, params) -> Result:
        rules = CoverageRules.load()
        quadrants = [q.value for q in CoverageQuadrant]
        zero = {"accounts": 0, **{q: 0 for q in quadrants}, "covered_accounts": 0, "engaged_accounts": 0, "leads_in_funnel": 0}
        if s.history_mode():
            found = coverage_by_owner(rep_ids=scope.rep_ids, segment=scope.segment or None)
        else:  # the same numbers set-based (apps.reporting.book_reads), not six lookups per account
            found = books.coverage_by_owner(
                rep_ids=scope.rep_ids, segment=scope.segment or None, rules=rules, touch_types=TOUCH_TYPES, now=timezone.now(),
                quadrants={q.name.lower(): q.value for q in CoverageQuadrant})
        names = s.rep_names({r["owner_id"] for r in found})
        for row in found:
            row["owner__owner_name"] = names.get(row["owner_id"])
        rows = s.merge_by_rep(reps=s.roster(scope=scope), rows=found, key="owner_id", name="owner__owner_name", zero=zero)
        total = {"rep": "All", **{k: sum(r[k] for r in rows) for k in zero}}
        for row in [*rows, total]:
            row["win_share"] = rate(row["win"], row["accounts"])
            row["covered_share"] = rate(row["covered_accounts"], row["accounts"])
            row["engaged_share"] = rate(row["engaged_accounts"], row["accounts"])
        definitions = dict(rules.definitions())
        table = Table("by-rep", "Coverage × engagement per rep", [
            Column("rep", "Owner", "text"),
            Column("accounts", "Accounts", "int", "Accounts in the rep's book now (in the segment, if chosen)."),
            *[Column(q.value, q.label, "int", definitions[q.label]) for q in CoverageQuadrant],
            Column("covered_accounts", "Covered", "int", definitions["Covered"]),
            Column("covered_share", "Covered %", "pct", "Covered ÷ accounts.", 0),
            Column("engaged_accounts", "Engaged", "int", definitions["Engaged"]),
            Column("engaged_share", "Engaged %", "pct", "Engaged ÷ accounts.", 0),
            Column("win_share", "Win %", "pct", "Accounts in Win ÷ accounts.", 0),
            Column("leads_in_funnel", "Leads in the funnel", "int", "Contacts of these accounts with an open lead cycle (assigned or working)."),
        ], rows, total=total if rows else None,
            note="A snapshot of books as they are now; not the ICP quadrant (fit × timing), which is a separate column on the accounts list.")
        applies = Table("lead-types", "How each metric applies per lead type", [
            Column("metric", "Metric", "text"),
            *[Column(t.value, t.label, "text") for t in LeadType],
        ], [{"metric": metric, **{t.value: by_type[t] for t in LeadType}} for metric, by_type in APPLIES_PER_LEAD_TYPE],
            note="Seed 004: “pick-up rate doesn't apply to outbound leads; account coverage doesn't apply to inbound leads.”")
        chart = bar_chart(labels=[r["rep"] for r in rows], stacked=True,
                          datasets=[(q.label, [r[q.value] for r in rows]) for q in CoverageQuadrant])
        summary = [(q.label, str(total[q.value])) for q in CoverageQuadrant]
        return Result(tables=[table, applies], chart=chart, summary=summary)
