"""Inbound / outbound balance (issue 22 item 2), worked by hand.

Team East's goals: 2 inbound and 4 outbound activities per rep and working day. Sam's week,
Mon 2 - Sun 8 March 2026 (5 weekdays):
  c1 inbound, assigned 2 Mar 10:00; call 2 Mar 11:00, email 3 Mar 10:00; nurtured 4 Mar 11:00
     → 2 touches, handle 48 h
  c2 inbound, assigned 3 Mar 09:00; call 3 Mar 10:00 (+ an automated email: never counts);
     unqualified 3 Mar 22:00 → 1 touch, handle 12 h
  c3 outbound, assigned 2 Mar 09:00; calls 2, 3, 4, 5 Mar 10:00; unqualified 5 Mar 16:00
     → 4 touches, handle 78 h
  a note on an account (no contact) and an email to a contact without a cycle: outbound
  c4 inbound, marked an exception, with a call: left out; c5 inbound, open, untouched
Activities: inbound 3 (0.6 a day, 30% of 2), outbound 6 (1.2 a day, 30% of 4), inbound share
3 ÷ 9 = 33.3%. Book: 3 accounts owned + 1 open inbound lead (c4 is an exception) → 25%.
Handle: inbound 2 dispositions, 3 touches, 1.5 per disposition, median and mean 30 h;
outbound 1, 4, 4.0, 78 h. Capacity: (2 + 4) × 21 = 126 touches a month; 20 inbound leads ×
1.5 = 30; 96 left ÷ 4 = 24 outbound leads a month.
"""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import Activity
from apps.leads.models import ExceptionReason, TeamActivityGoals
from apps.leads.services import lead_cycle_exception_mark
from apps.people.tests.factories import ContactFactory
from apps.reporting.balance import outbound_capacity
from apps.reporting.tests.conftest import html_table, make_accounts, make_cycle

pytestmark = pytest.mark.django_db
PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def touch(sdr, contact, when, kind="call", automated=False):
    Activity.objects.create(type=kind, rep=sdr, contact=contact, account_id=contact.account_id, occurred_at=when,
                            automated=automated)


@pytest.fixture
def week(sdr, manager, team):
    TeamActivityGoals.objects.create(team=team, inbound_per_day=2, outbound_per_day=4)
    make_accounts(sdr, 3)
    c1 = make_cycle(sdr, at(2), touch=at(2, 11), done=at(4, 11), disposition="nurture")
    touch(sdr, c1.contact, at(2, 11))
    touch(sdr, c1.contact, at(3), "email")
    c2 = make_cycle(sdr, at(3, 9), touch=at(3), done=at(3, 22), disposition="unqualified")
    touch(sdr, c2.contact, at(3))
    touch(sdr, c2.contact, at(3, 12), "email", automated=True)
    c3 = make_cycle(sdr, at(2, 9), touch=at(2), done=at(5, 16), disposition="unqualified", lead_type="outbound")
    for day in (2, 3, 4, 5):
        touch(sdr, c3.contact, at(day))
    Activity.objects.create(type="note", rep=sdr, account=c3.contact.account, occurred_at=at(6))
    touch(sdr, ContactFactory(), at(6), "email")
    c4 = make_cycle(sdr, at(4, 9), touch=at(4))
    touch(sdr, c4.contact, at(4))
    lead_cycle_exception_mark(cycle=c4, reason=ExceptionReason.objects.first(), actor=manager)
    make_cycle(sdr, at(6))


def cells(html, key):
    table = html_table(html, key)
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


def test_balance_page_worked_out(report, manager, week):
    html = report(manager, "balance", **PERIOD).content.decode()
    sam = cells(html, "by-rep")[0]
    assert [sam[k] for k in ("SDR", "Inbound activities a day", "Inbound goal", "Inbound vs goal",
                             "Outbound activities a day", "Outbound goal", "Outbound vs goal",
                             "Inbound share of activity", "Accounts in book", "Open inbound leads",
                             "Inbound share of book")] == \
        ["Sam Seller", "0.6", "2", "30%", "1.2", "4", "30%", "33.3%", "3", "1", "25.0%"]
    by_type = {r["Lead type"]: [r[k] for k in ("Dispositions", "Touches", "Touches per disposition",
                                               "Median handle time (h)", "Mean handle time (h)")]
               for r in cells(html, "handle-by-type")}
    assert by_type == {"Inbound": ["2", "3", "1.5", "30.0", "30.0"], "Outbound": ["1", "4", "4.0", "78.0", "78.0"]}


def test_outbound_capacity_formula():
    assert outbound_capacity(inbound_per_day=2, outbound_per_day=4, working_days=21, inbound_leads=20,
                             touches_per_inbound=1.5, touches_per_outbound=4.0) == \
        {"monthly_touches": 126, "inbound_touches": 30.0, "left": 96.0, "outbound_leads": 24}
    # More inbound than the month holds leaves nothing for outbound; no history, no answer.
    assert outbound_capacity(inbound_per_day=2, outbound_per_day=4, working_days=21, inbound_leads=100,
                             touches_per_inbound=1.5, touches_per_outbound=4.0)["outbound_leads"] == 0
    assert outbound_capacity(inbound_per_day=2, outbound_per_day=4, working_days=21, inbound_leads=20,
                             touches_per_inbound=None, touches_per_outbound=4.0)["outbound_leads"] is None


def test_scorecard_and_capacity_planner_carry_the_balance(report, manager, sdr, week):
    import time_machine

    card = {r["Metric"]: [r["Sam Seller"], r["Team average"]] for r in cells(
        report(manager, "scorecard", rep=sdr.pk, **PERIOD).content.decode(), "scorecard")}
    assert card["Inbound activities per working day"] == ["0.6", "0.6"]
    assert card["Outbound activities per working day"] == ["1.2", "1.2"]
    assert card["Inbound share of activity"] == ["33.3%", "33.3%"]
    assert card["Open inbound leads"] == ["1", "1.0"]
    with time_machine.travel(at(10), tick=False):
        html = report(manager, "capacity", inbound_leads=20, working_days=21).content.decode()
    row = cells(html, "outbound-capacity")[0]
    assert [row[k] for k in ("SDR", "Team activity goals", "Touches a month", "Inbound leads a month",
                             "Touches per inbound disposition", "Touches inbound takes", "Touches left for outbound",
                             "Touches per outbound disposition", "Outbound leads a month")] == \
        ["Sam Seller", "2 in + 4 out a day", "126", "20", "1.5", "30.0", "96.0", "4.0", "24"]
