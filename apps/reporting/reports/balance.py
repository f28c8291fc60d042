"""The inbound / outbound balance page (issue 22 item 2): each SDR's activity split against the
team's inbound and outbound goals, their book (accounts vs open inbound leads), and the handle
time per lead type. Definitions in apps.reporting.balance."""

from __future__ import annotations

from apps.leads.models import LeadType
from apps.people.models import Rep
from apps.reporting import balance as b
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

BALANCE_ZERO = {"inbound": 0, "outbound": 0}


def balance_rows(*, scope) -> tuple[list[dict], dict]:
    """One row per SDR of the roster: activity per working day by kind against the goals, and
    the book; plus the team row (means per SDR, pooled share). Four statements."""

    roster = s.roster(scope=scope)
    split = b.activity_split(scope=scope)
    days = len(s.weekdays_between(scope.date_from, scope.date_to)) or 1
    accounts = s.accounts_by_owner(scope=scope)
    leads = b.open_inbound_leads(rep_ids=scope.rep_ids)
    goals = b.goals_by_team()
    teams = dict(Rep.objects.filter(pk__in=[r["pk"] for r in roster]).values_list("pk", "team_id"))
    rows = []
    for rep in roster:
        done = split.get(rep["pk"], BALANCE_ZERO)
        goal = goals.get(teams.get(rep["pk"]))
        row = {"rep_id": rep["pk"], "rep": rep["owner_name"], "inbound": done["inbound"], "outbound": done["outbound"],
               "inbound_day": done["inbound"] / days, "outbound_day": done["outbound"] / days,
               "inbound_goal": goal.inbound_per_day if goal else None,
               "outbound_goal": goal.outbound_per_day if goal else None,
               "accounts": accounts.get(rep["pk"], 0), "inbound_leads": leads.get(rep["pk"], 0)}
        row["inbound_share"] = rate(row["inbound"], row["inbound"] + row["outbound"])
        row["inbound_vs_goal"] = rate(row["inbound_day"], row["inbound_goal"])
        row["outbound_vs_goal"] = rate(row["outbound_day"], row["outbound_goal"])
        row["book_inbound_share"] = rate(row["inbound_leads"], row["inbound_leads"] + row["accounts"])
        rows.append(row)
    n = len(rows)
    total = {"rep": "Team (mean per SDR)"}
    for key in ("inbound", "outbound", "inbound_day", "outbound_day", "accounts", "inbound_leads"):
        total[key] = sum(r[key] for r in rows) / n if n else None
    total["inbound_share"] = rate(sum(r["inbound"] for r in rows), sum(r["inbound"] + r["outbound"] for r in rows))
    total["book_inbound_share"] = rate(sum(r["inbound_leads"] for r in rows),
                                       sum(r["inbound_leads"] + r["accounts"] for r in rows))
    return rows, total


BALANCE_COLUMNS = [
    Column("rep", "SDR", "text"),
    Column("inbound_day", "Inbound activities a day", "num", "Non-automated activities on inbound leads (the contact's "
           "latest cycle assigned before the touch is inbound) ÷ weekdays in the period."),
    Column("inbound_goal", "Inbound goal", "int", "The team's inbound activities per rep and working day "
           "(Lead lifecycle → Team activity goals)."),
    Column("inbound_vs_goal", "Inbound vs goal", "pct", "Inbound activities a day ÷ inbound goal.", 0),
    Column("outbound_day", "Outbound activities a day", "num", "Every other non-automated activity (outbound and "
           "target-account leads, contacts without a cycle, account work) ÷ weekdays in the period."),
    Column("outbound_goal", "Outbound goal", "int", "The team's outbound activities per rep and working day."),
    Column("outbound_vs_goal", "Outbound vs goal", "pct", "Outbound activities a day ÷ outbound goal.", 0),
    Column("inbound_share", "Inbound share of activity", "pct", "Inbound ÷ all activities (team: pooled)."),
    Column("accounts", "Accounts in book", "num", "Accounts the SDR owns now (team: mean per SDR).", 0),
    Column("inbound_leads", "Open inbound leads", "num", "Inbound lead cycles assigned or working, held now "
           "(exceptions left out; team: mean per SDR).", 0),
    Column("book_inbound_share", "Inbound share of book", "pct", "Open inbound leads ÷ (open inbound leads + accounts)."),
]

HANDLE_COLUMNS = [
    Column("dispositions", "Dispositions", "int", "Lead cycles dispositioned in the period (exceptions left out)."),
    Column("touches", "Touches", "int", "Real touches (call, email, social, meeting; not automated) on the lead from "
           "assignment to disposition."),
    Column("touches_per_disposition", "Touches per disposition", "num", "Touches ÷ dispositions (dispositions without "
           "a touch count, with none)."),
    Column("handle_median_h", "Median handle time (h)", "hours", "Median of disposition − first real touch, over the "
           "dispositioned cycles with a touch (percentile_cont 0.5)."),
    Column("handle_avg_h", "Mean handle time (h)", "hours", "Mean of the same."),
]


def finish_handle(row: dict) -> dict:
    row["handle_median_h"] = None if row["handle_median_s"] is None else row["handle_median_s"] / 3600
    row["handle_avg_h"] = None if row["handle_avg_s"] is None else row["handle_avg_s"] / 3600
    return row


@register
class Balance(Report):
    slug = "balance"
    title = "Inbound / outbound balance"
    description = ("Each SDR's inbound and outbound activity against the team's goals, their book (accounts vs open "
                   "inbound leads) and the handle time per lead type.")
    filters = ("date", "team", "rep")

    def compute(self, *, scope, params) -> Result:
        rows, total = balance_rows(scope=scope)
        handle = b.handle_times(scope=scope)
        types = dict(LeadType.choices)
        by_type = [finish_handle({**r, "lead_type": types.get(r["lead_type"], r["lead_type"])})
                   for r in sorted(handle["lead_type"], key=lambda r: r["lead_type"])]
        names = {r["rep_id"]: r["rep"] for r in rows}
        by_rep = [finish_handle({**r, "rep": names.get(r["rep_id"]) or s.rep_names([r["rep_id"]]).get(r["rep_id"], "(unassigned)"),
                                 "lead_type": types.get(r["lead_type"], r["lead_type"])})
                  for r in sorted(handle["rep"], key=lambda r: (names.get(r["rep_id"], "~"), r["lead_type"]))
                  if r["rep_id"] in names]
        tables = [
            Table("by-rep", "Activity and book by SDR", BALANCE_COLUMNS, rows, total=total if rows else None,
                  note="" if any(r["inbound_goal"] is not None for r in rows) or not rows
                  else "No activity goals for these teams yet: ops set them in Lead lifecycle → Team activity goals."),
            Table("handle-by-type", "Handle time per lead type", [Column("lead_type", "Lead type", "text"), *HANDLE_COLUMNS],
                  by_type),
            Table("handle-by-rep", "Handle time by SDR and lead type",
                  [Column("rep", "SDR", "text"), Column("lead_type", "Lead type", "text"), *HANDLE_COLUMNS], by_rep),
        ]
        chart = bar_chart(labels=[r["rep"] for r in rows], stacked=True, datasets=[
            ("Inbound a day", [r["inbound_day"] for r in rows]), ("Outbound a day", [r["outbound_day"] for r in rows])])
        summary = [("Inbound share of activity", "no data" if total.get("inbound_share") is None
                    else f"{total['inbound_share'] * 100:.0f}%")]
        return Result(tables=tables, chart=chart, summary=summary)
