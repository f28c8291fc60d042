from __future__ import annotations

import datetime as dt

import pytest

from apps.cadences.models import Enrolment, EnrolmentStep
from apps.cadences.tests.factories import cadence_with_steps
from apps.people.tests.factories import ContactFactory
from apps.reporting.tests.conftest import csv_table, html_table

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
NR, POS, NEG, NC, PEND = "no_response", "positive", "negative", "not_completed", "pending"


def at(day, hour=10, month=3):
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def enrol(cadence, rep, state, outcomes, *, day=3):
    ended = None if state == "active" else at(day + 3)
    enrolment = Enrolment.objects.create(contact=ContactFactory(), cadence=cadence, rep=rep, state=state,
                                         enrolled_at=at(day), ended_at=ended)
    for step in cadence.steps.order_by("position"):
        outcome = outcomes[step.position - 1] if step.position <= len(outcomes) else PEND
        EnrolmentStep.objects.create(enrolment=enrolment, step=step, position=step.position, channel=step.channel,
                                     due_at=at(day) + dt.timedelta(days=step.day_offset), outcome=outcome,
                                     ended_at=None if outcome == PEND else at(day + 1))
    return enrolment


@pytest.fixture
def enrolments(sdr, other_sdr):
    cadence = cadence_with_steps(name="Inbound five", lead_type="inbound",
                                 steps=((0, "call"), (1, "email"), (2, "call"), (4, "social"), (6, "email")))
    enrol(cadence, sdr, "completed", [NR] * 5)
    enrol(cadence, sdr, "positive", [NR, POS])
    enrol(cadence, sdr, "negative", [NEG])
    enrol(cadence, sdr, "dispositioned", [NR, NC, NR])        # 2 steps done: an early abandon
    enrol(cadence, sdr, "dispositioned", [NR, NR, NR, NR])    # 4 steps done
    enrol(cadence, sdr, "active", [NR])
    enrol(cadence, sdr, "completed", [NR] * 5, day=12)  # enrolled Mar 12: after the period
    enrol(cadence, other_sdr, "completed", [NR] * 5)
    return cadence


def test_cadence_compliance_worked_out(report, manager, enrolments):
    html = report(manager, "cadences", **PERIOD).content.decode()
    table = html_table(html, "cadences")
    col = {name: i for i, name in enumerate(table[0])}
    row = next(r for r in table if r[0] == "Inbound five")
    keys = ("Enrolments", "Active", "Positive", "Negative", "Ended without response", "Completed", "Completion rate",
            "Dispositioned", "Steps before disposition", "Early abandons", "Early abandon rate")
    assert [row[col[k]] for k in keys] == ["6", "1", "1", "1", "3", "1", "33.3%", "2", "3.0", "1", "50.0%"]
    steps = html_table(html, "steps")
    scol = {name: i for i, name in enumerate(steps[0])}
    by_position = {r[scol["Step"]]: r for r in steps[1:]}
    skeys = ("Reached", "Positive response", "Negative response", "No response", "Not completed", "Pending", "Response rate")
    assert [by_position["1"][scol[k]] for k in skeys] == ["6", "0", "1", "5", "0", "0", "16.7%"]
    assert [by_position["2"][scol[k]] for k in skeys] == ["4", "1", "0", "2", "1", "1", "25.0%"]
    assert [by_position["5"][scol[k]] for k in skeys] == ["1", "0", "0", "1", "0", "1", "0.0%"]
    assert csv_table(report(manager, "cadences", export="steps", **PERIOD).content.decode()) == steps


def test_cadence_lead_type_filter_and_empty(report, manager, enrolments):
    html = report(manager, "cadences", lead_type="outbound", **PERIOD).content.decode()
    assert html_table(html, "cadences")[1:] == []
    assert "no data" in html


@pytest.mark.parametrize("n", [1, 6])
def test_cadence_query_count_is_bounded(report, manager, sdr, django_assert_max_num_queries, n):
    cadence = cadence_with_steps(name="Short", lead_type="inbound")
    for _ in range(n):
        enrol(cadence, sdr, "dispositioned", [NR, NR])
    report(manager, "cadences", **PERIOD)
    with django_assert_max_num_queries(18):
        assert report(manager, "cadences", **PERIOD).status_code == 200
