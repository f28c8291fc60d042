"""The nurture report, figures worked by hand. Now = 2026-03-09 12:00; period 03-02 … 03-08.

In nurture now (East): a Sam rep-abandoned 10 days ago (in a program, due in 20 days), b Sam
rep-abandoned 100 days ago (in a program, due in 80), c Tia budget 200 days ago. Rep-abandoned:
2 leads, 2 in a program, 1 due within 30 days, median age (10+100)/2 = 55.0, bands <30: 1,
90-179: 1; budget: 1 lead, 200.0, 180+: 1; all: 3, median 100.0. Olga's (West) is not shown.
Recycled: d nurtured by Sam (rep-abandoned) on 01-01 10:00, back with Tia on 03-03 10:00 (61
days), a held qualified meeting whose deal is won; e nurtured by Tia (budget) on 02-20 10:00,
back with Tia on 03-04 10:00 (12 days), nothing yet. All: 2 recycled, 1 re-assigned (50.0%),
median (61+12)/2 = 36.5 days, 1 meeting, 1 opportunity (50.0%), 1 won.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from apps.campaigns.models import NurtureEntry, NurtureProgram
from apps.leads.models import LeadCycle
from apps.reporting.tests.conftest import csv_table, html_table, make_cycle, make_meeting, make_opportunity

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
NOW = dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC)
D = dt.timedelta(days=1)


def nurtured(rep, done, reason, **kwargs):
    cycle = make_cycle(rep, done - D, touch=done - D, done=done, disposition="nurture", **kwargs)
    LeadCycle.objects.filter(pk=cycle.pk).update(disposition_reason=reason)
    return cycle


@pytest.fixture
def nurture(sdr, tia, other_sdr, ae):
    program = NurtureProgram.objects.create(name="Test program", recycle_after_days=30)
    a = nurtured(sdr, NOW - 10 * D, "Rep-abandoned")
    b = nurtured(sdr, NOW - 100 * D, "Rep-abandoned")
    for cycle, due in ((a, NOW + 20 * D), (b, NOW + 80 * D)):
        NurtureEntry.objects.create(cycle=cycle, contact=cycle.contact, program=program, reason_label="Rep-abandoned",
                                    entered_at=cycle.dispositioned_at, recycle_due_at=due)
    nurtured(tia, NOW - 200 * D, "Budget next fiscal year")
    nurtured(other_sdr, NOW - 5 * D, "Rep-abandoned")
    d = nurtured(sdr, dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC), "Rep-abandoned")
    d2 = make_cycle(tia, dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC), touch=dt.datetime(2026, 3, 3, 11, tzinfo=dt.UTC),
                    contact=d.contact, number=2)
    deal = make_opportunity(account=d.contact.account, owner=ae, sourcing_sdr=tia, stage="closed_won", amount=1000,
                            created_at=NOW - 4 * D, pipeline_at=NOW - 4 * D)
    make_meeting(sdr=tia, ae=ae, scheduled_at=NOW - 5 * D, cycle=d2, status="completed_qualified", opportunity=deal)
    e = nurtured(tia, dt.datetime(2026, 2, 20, 10, tzinfo=dt.UTC), "Budget next fiscal year")
    make_cycle(tia, dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC), contact=e.contact, number=2)


def by_reason(table):
    header = table[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in table[1:]}


def test_nurture_report_worked_out(report, manager, nurture):
    with time_machine.travel(NOW, tick=False):
        html = report(manager, "nurture", **PERIOD).content.decode()
        exported = {key: csv_table(report(manager, "nurture", export=key, **PERIOD).content.decode())
                    for key in ("in-nurture", "recycled")}
    now = by_reason(html_table(html, "in-nurture"))
    keys = ("Leads", "In a program", "Recycle due in 30 days", "Median days in nurture", "< 30 days", "30-89 days",
            "90-179 days", "180+ days")
    assert {reason: [row[k] for k in keys] for reason, row in now.items()} == {
        "Rep-abandoned": ["2", "2", "1", "55.0", "1", "0", "1", "0"],
        "Budget next fiscal year": ["1", "0", "0", "200.0", "0", "0", "0", "1"],
        "All": ["3", "2", "1", "100.0", "1", "0", "1", "1"],
    }
    back = by_reason(html_table(html, "recycled"))
    keys = ("Recycled", "Re-assigned", "Re-assigned rate", "Median time in nurture (days)", "Reactivated: meetings",
            "Reactivated: opportunities", "Opportunity rate", "Reactivated: won")
    assert {reason: [row[k] for k in keys] for reason, row in back.items()} == {
        "Rep-abandoned": ["1", "1", "100.0%", "61.0", "1", "1", "100.0%", "1"],
        "Budget next fiscal year": ["1", "0", "0.0%", "12.0", "0", "0", "0.0%", "0"],
        "All": ["2", "1", "50.0%", "36.5", "1", "1", "50.0%", "1"],
    }
    for key, rows in exported.items():
        assert rows == html_table(html, key)


@pytest.mark.parametrize("n", [1, 6])
def test_nurture_report_query_count_is_bounded(report, manager, sdr, django_assert_max_num_queries, n):
    for i in range(n):
        first = nurtured(sdr, NOW - (40 + i) * D, f"Reason {i}")
        make_cycle(sdr, dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC), contact=first.contact, number=2)
    report(manager, "nurture", **PERIOD)
    with django_assert_max_num_queries(16):
        assert report(manager, "nurture", **PERIOD).status_code == 200
