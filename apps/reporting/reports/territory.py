"""The territory page: accounts and their coverage by rep and segment."""

from __future__ import annotations

from apps.people.models import Segment
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate


@register
class Territory(Report):
    slug = "territory"
    title = "Territory balance"
    description = "Accounts per owner against the mean (±20%), tier and status mix per owner, unassigned high-tier accounts."
    filters = ("team", "rep", "segment")
    segment_filters_reps = False

    def compute(self, *, scope, params) -> Result:
        zero = {"accounts": 0, **{f"tier_{t.lower()}": 0 for t in s.TIERS}, "tier_none": 0,
                **{f"status_{st}": 0 for st in s.STATUSES}}
        rows = s.merge_by_rep(reps=s.roster(scope=scope), rows=s.territory_by_owner(scope=scope),
                              key="owner_id", name="owner__owner_name", zero=zero)
        mean = (sum(r["accounts"] for r in rows) / len(rows)) if rows else None
        statuses = {}
        for index, row in enumerate(rows):
            row["deviation"] = rate(row["accounts"], mean) - 1 if mean else None
            balanced = row["deviation"] is not None and abs(row["deviation"]) <= 0.2 + 1e-9
            row["balance"] = "no data" if row["deviation"] is None else ("balanced" if balanced else "outside ±20%")
            if row["deviation"] is not None:
                statuses[(index, "deviation")] = "good" if balanced else "bad"
                statuses[(index, "balance")] = statuses[(index, "deviation")]
            for key in [f"tier_{t.lower()}" for t in s.TIERS] + ["tier_none"]:
                row[f"{key}_share"] = rate(row[key], row["accounts"])
        columns = [
            Column("rep", "Owner", "text"),
            Column("accounts", "Accounts", "int", "Accounts the rep owns now (in the segment, if one is chosen)."),
            Column("deviation", "vs mean", "pct", "Accounts ÷ mean accounts per owner shown − 1; the mean is over the owners in this table.", 0),
            Column("balance", "Balance", "text", "Balanced when within ±20% of the mean (the seed's even distribution)."),
            *[Column(f"tier_{t.lower()}", f"Tier {t}", "int", f"Owned accounts in tier {t} (ICP score band).") for t in s.TIERS],
            Column("tier_none", "Unscored", "int", "Owned accounts with no tier yet."),
            *[Column(f"tier_{t.lower()}_share", f"Tier {t} %", "pct", f"Tier {t} ÷ accounts.", 0) for t in s.TIERS],
            *[Column(f"status_{st}", st.capitalize(), "int", f"Owned accounts with status {st}.") for st in s.STATUSES],
        ]
        total = None
        if rows:
            total = {"rep": "All owners", "accounts": sum(r["accounts"] for r in rows), "balance": f"mean {mean:.1f}"}
            for key in zero:
                total[key] = sum(r[key] for r in rows)
            for t in s.TIERS:
                total[f"tier_{t.lower()}_share"] = rate(total[f"tier_{t.lower()}"], total["accounts"])
        owners = Table("owners", "Accounts per owner", columns, rows, total=total, statuses=statuses,
                       note="A snapshot of books as they are now; the date range does not apply.")
        pool_rows = [{"segment": r["segment"], "tier_a": r["tier_a"], "tier_b": r["tier_b"], "pool": r["pool"]}
                     for r in s.territory_unassigned(scope=scope)]

        labels = dict(Segment.choices)
        for row in pool_rows:
            row["segment"] = labels.get(row["segment"], row["segment"])
        pool = Table("unassigned", "Unassigned accounts (pool) by segment", [
            Column("segment", "Segment", "text"),
            Column("tier_a", "Unassigned tier A", "int", "Prospect or active accounts in the pool (no owner) in tier A: high-tier accounts needing assignment."),
            Column("tier_b", "Unassigned tier B", "int", "The same for tier B."),
            Column("pool", "All unassigned", "int", "Prospect or active accounts in the pool."),
        ], pool_rows, total={"segment": "All", **{k: sum(r[k] for r in pool_rows) for k in ("tier_a", "tier_b", "pool")}} if pool_rows else None)
        chart = bar_chart(labels=[r["rep"] for r in rows], stacked=True, datasets=[
            *[(f"Tier {t}", [r[f"tier_{t.lower()}"] for r in rows]) for t in s.TIERS],
            ("Unscored", [r["tier_none"] for r in rows]),
        ])
        summary = [("Mean accounts per owner", "no data" if mean is None else f"{mean:.1f}"),
                   ("Owners outside ±20%", str(sum(1 for r in rows if r["balance"] == "outside ±20%"))),
                   ("Unassigned tier A", str(pool.total["tier_a"] if pool.total else 0))]
        return Result(tables=[owners, pool], chart=chart, summary=summary)
