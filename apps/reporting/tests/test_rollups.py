"""The hold on the report rollups: every cell of every report page equals the from-scratch
computation over history, after inserts, updates and deletes of everything the rollups
summarise; the kept rollups equal a rebuild; the rebuild command repairs a broken one; each
page runs a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Account, Activity, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.campaigns.models import Campaign, CampaignInteraction
from apps.icps.tests.factories import ICPFactory
from apps.leads.models import ExceptionReason, LeadCycle, SlaBreach
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.meetings.models import Meeting
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.people.timezones import user_zone
from apps.reporting.reports import REPORTS
from apps.reporting.rollup_reads import from_history, window_split
from apps.reporting.rollups import rollups_check
from apps.reporting.tests.conftest import make_cycle, make_meeting, make_opportunity
from apps.reporting.views import report_compute
from sdrops.api.scope import ReportFilterSet

H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 3, 20, 15, tzinfo=dt.UTC)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def history(sdr, tia, ae, ops, manager):
    """A fortnight of lead cycles, meetings and activities, then changed the ways the app changes
    them: touched, dispositioned, qualified, re-linked, breached, moved and deleted."""
    manager.time_zone = "America/New_York"
    manager.save()
    ops.time_zone = "Asia/Kolkata"  # half-hour midnights: the raw fallback for daily volume
    ops.save()
    other = RepFactory(role=Rep.Role.SDR, owner_name="Olga Other")  # another team: ops only
    cycles = []
    for i, rep in enumerate([sdr, tia, other, None, sdr, tia, sdr, other] * 3):
        day, hour = 2 + i % 14, (i * 5) % 24  # every hour of the day: edges in every zone
        kind = i % 6
        kwargs = {"source": ["inbound", "event", "outbound"][i % 3], "lead_type": ["inbound", "outbound"][i % 2],
                  "campaign": ["Spring webinar", "", "Trade show"][i % 3],
                  "sla_maximum_at": at(day, hour) + 24 * H if i % 4 else None}
        if kind == 0:
            cycle = make_cycle(rep, at(day, hour), **kwargs)  # untouched, open (past its maximum by now)
        elif kind == 1:
            cycle = make_cycle(rep, at(day, hour), touch=at(day, hour) + (30 if i % 5 else 2) * H, **kwargs)
        elif kind == 2:
            cycle = make_cycle(rep, at(day, hour), done=at(day, hour) + 30 * H, disposition="unqualified",
                               bypassed=True, **kwargs)
        else:
            cycle = make_cycle(rep, at(day, hour), touch=at(day, hour) + 3 * H, done=at(day, hour) + 50 * H,
                               disposition=["nurture", "qualified", "unqualified"][i % 3], **kwargs)
        cycles.append(cycle)
    accounts = [AccountFactory(owner=rep, tier="ABC"[n % 3], total_score=30 + n * 7)
                for n, rep in enumerate([sdr, tia, other, sdr, None])]
    icp = ICPFactory()
    for n, (rep, segment, status) in enumerate([(sdr, "smb", "active"), (tia, "enterprise", "customer"),
                                                (None, "smb", "prospect"), (None, "enterprise", "active"),
                                                (None, "mid_market", "disqualified"), (other, "pubsec", "prospect")]):
        AccountFactory(owner=rep, segment=segment, status=status, tier="AB C"[n % 4].strip(), total_score=n * 19,
                       matched_icp=icp if n % 2 else None)
    for n, cycle in enumerate(cycles[:12]):
        if cycle.rep is None:
            continue
        status = ["completed_qualified", "scheduled", "no_show", "completed_qualified"][n % 4]
        opp = None
        if status == "completed_qualified":
            opp = make_opportunity(account=accounts[n % 5], owner=ae, sourcing_sdr=cycle.rep, created_at=at(8),
                                   pipeline_at=at(9) if n % 3 else None)
        make_meeting(sdr=cycle.rep, ae=ae, scheduled_at=cycle.assigned_at + 48 * H, cycle=cycle, status=status,
                     opportunity=opp)
    for n in range(40):
        rep = [sdr, tia, other, sdr][n % 4]
        ActivityFactory(rep=rep, account=accounts[n % 5], type=["intelligence_run", "call", "email", "note", "social"][n % 5],
                        occurred_at=at(2 + n % 14, (n * 7) % 24), automated=n % 9 == 0)

    # Changes after the fact, through the ORM as services make them (each fires the triggers).
    scheduled = Meeting.objects.filter(status="scheduled").first()
    scheduled.status, scheduled.dispositioned_at = "completed_qualified", scheduled.scheduled_end_at + H
    scheduled.opportunity = make_opportunity(account=accounts[0], owner=ae, sourcing_sdr=scheduled.sdr,
                                             created_at=at(10))
    scheduled.save()
    opp = scheduled.opportunity
    opp.pipeline_at = at(11)
    opp.save()
    Meeting.objects.filter(status="no_show").first().delete()
    Meeting.objects.filter(lead_cycle=cycles[3]).update(lead_cycle=cycles[4])  # moved to another cycle
    moved = Meeting.objects.filter(status="completed_qualified").order_by("pk").first()
    Meeting.objects.filter(pk=moved.pk).update(scheduled_at=at(17, 23), scheduled_end_at=at(18, 0), ae=tia, disposition_late=True)  # rescheduled
    untouched = [c for c in cycles if c.first_touch_at is None and c.dispositioned_at is None]
    SlaBreach.objects.create(cycle=untouched[0], kind=SlaBreach.Kind.MAXIMUM, rep=untouched[0].rep,
                             assigned_at=untouched[0].assigned_at, due_at=untouched[0].assigned_at + 24 * H)
    LeadCycle.objects.filter(pk=untouched[1].pk).update(first_touch_at=untouched[1].assigned_at + 5 * H,
                                                        worked_at=untouched[1].assigned_at + 5 * H, state="working")
    LeadCycle.objects.filter(pk=cycles[7].pk).update(rep=tia, assigned_at=at(12, 23))  # re-assigned, moved day
    CampaignInteraction.objects.filter(lead_cycle=cycles[9]).delete()  # unlinked
    CampaignInteraction.objects.filter(lead_cycle=cycles[12]).update(campaign=Campaign.objects.get(name="Trade show"))
    LeadCycle.objects.filter(pk=cycles[10].pk).delete()
    reason = ExceptionReason.objects.first()
    for cycle in (cycles[5], cycles[13], cycles[14]):  # exceptions: in no number (issue 22)
        lead_cycle_exception_mark(cycle=cycle, reason=reason, actor=manager, at=NOW)
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=cycles[14].pk), actor=manager, at=NOW)
    first = Activity.objects.filter(type="intelligence_run").order_by("occurred_at").first()
    Activity.objects.filter(pk=first.pk).update(occurred_at=at(15, 3))  # research now after the outreach
    Activity.objects.filter(type="email").order_by("pk").first().delete()
    # Accounts change owner (the ownership service), score and tier (a rescoring's UPDATE),
    # segment and status, and leave (a delete): the books follow.
    account_owners_set(changes=[(accounts[1].pk, sdr.pk), (accounts[4].pk, tia.pk)], reason=OwnershipReason.MANUAL)
    Account.objects.filter(tier="B").update(tier="A", total_score=F("total_score") / 2 + 50, matched_icp=icp)
    Account.objects.filter(pk=accounts[3].pk).update(segment="enterprise", status="customer")
    Account.objects.filter(segment="mid_market", owner__isnull=True).delete()
    return {"sdr": sdr, "manager": manager, "ops": ops}


def page_cells(user, slug: str, **query) -> dict:
    """Every cell a page shows (tables, totals, summary, chart, notes), computed as the view does."""
    report = REPORTS[slug]
    request = RequestFactory().get("/", query)
    request.user = user
    with timezone.override(user_zone(user)):
        filterset = ReportFilterSet(request.GET, request=request, page=report)
        params_form = report.params_form(request.GET) if report.params_form else None
        assert filterset.is_valid() and (params_form is None or params_form.is_valid()), (slug, filterset.form.errors)
        scope = filterset.scope(user=user, segment_filters_reps=report.segment_filters_reps)
        result = report_compute(report, scope=scope, params=params_form.cleaned_data if params_form else {})
    return {
        "tables": {t.key: (t.header(), t.formatted_rows(), t.formatted_total()) for t in result.tables},
        "summary": result.summary, "chart": result.chart, "notes": result.notes,
    }


WINDOWS = [{"date_from": "2026-03-01", "date_to": "2026-03-19"}, {"date_from": "2026-03-05", "date_to": "2026-03-05"},
           {"date_from": "2026-03-04", "date_to": "2026-03-11", "lead_type": "outbound"}]


@time_machine.travel(NOW, tick=False)
def test_every_report_cell_equals_the_computation_from_history(history):
    assert rollups_check() == []
    checked = 0
    for who in ("ops", "manager", "sdr"):
        user = history[who].user
        for window in WINDOWS:
            for slug, report in REPORTS.items():
                query = {k: v for k, v in window.items() if k in ("date_from", "date_to") or k in report.filters}
                if slug == "scorecard":
                    query["rep"] = history["sdr"].pk
                kept = page_cells(user, slug, **query)
                with from_history():
                    scratch = page_cells(user, slug, **query)
                assert kept == scratch, (who, slug, query)
                checked += sum(len(rows) for _, rows, _ in kept["tables"].values())
    assert checked > 500  # the pages had rows to compare, not only empty tables


@time_machine.travel(NOW, tick=False)
def test_the_rebuild_command_repairs_and_check_reports(history):
    call_command("rebuild_report_rollups", "--check")
    with connection.cursor() as cursor:  # a broken rollup (a restore, a repair with triggers off)
        cursor.execute("UPDATE reporting_cycleday SET assigned = assigned + 1 WHERE id = (SELECT min(id) FROM reporting_cycleday)")
        cursor.execute("DELETE FROM reporting_firsttouch WHERE id = (SELECT min(id) FROM reporting_firsttouch)")
        cursor.execute("UPDATE reporting_bookcount SET accounts = accounts + 2 WHERE id = (SELECT max(id) FROM reporting_bookcount)")
    differences = {d.table for d in rollups_check()}
    assert differences == {"cycles per day", "first touches", "research per day", "books"}  # research follows first touches
    with pytest.raises(CommandError, match="differ from a rebuild"):
        call_command("rebuild_report_rollups", "--check")
    call_command("rebuild_report_rollups")
    assert rollups_check() == []


def test_windows_split_into_whole_utc_buckets_and_raw_ends():
    import zoneinfo

    ny = zoneinfo.ZoneInfo("America/New_York")
    start, end = dt.datetime(2026, 3, 2, tzinfo=ny), dt.datetime(2026, 3, 9, tzinfo=ny)
    assert window_split(start, end, step=dt.timedelta(days=1)) == (dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
                                                                     dt.datetime(2026, 3, 9, tzinfo=dt.UTC))
    assert window_split(start, end, step=H) == (start, end)  # whole-hour offsets: nothing raw
    one_day = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC), dt.datetime(2026, 3, 3, 4, tzinfo=dt.UTC)
    assert window_split(*one_day, step=dt.timedelta(days=1)) is None  # no whole UTC day inside


# The statements each page runs (as ops, the widest scope) — the savepoint and session settings
# included — whatever the data size; the report bench prints the same counts at 100k and 1M
# activities. A page another app registers later gets 6 until it is given its own line.
QUERY_BUDGET = {"team-dashboard": 10, "lead-response": 8, "activity": 10, "territory": 6, "icp-coverage": 7,
                "meetings": 8, "conversion": 6, "cadences": 5, "returns": 8, "scorecard": 21, "capacity": 7,
                "campaigns": 5, "nurture": 5, "market-segments": 10, "account-coverage": 8, "balance": 10,
                "fairness": 12}


@time_machine.travel(NOW, tick=False)
def test_report_pages_run_a_bounded_number_of_queries(history):
    user = history["ops"].user
    for slug, report in REPORTS.items():
        query = dict(WINDOWS[0]) if report.uses_dates else {}
        if slug == "scorecard":
            query["rep"] = history["sdr"].pk
        with CaptureQueriesContext(connection) as captured:
            page_cells(user, slug, **query)
        assert len(captured) <= QUERY_BUDGET.get(slug, 6), (slug, [q["sql"][:120] for q in captured])
