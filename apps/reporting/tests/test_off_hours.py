"""Off-hours leads on the lead-response page (issue 22 item 5), worked by hand.

Policy: business hours 09:00-17:00 Monday-Friday, US public holidays (Mon 19 Jan 2026 is
Martin Luther King Jr. Day). Sam works in New York (UTC-5 in January). Arrivals (UTC → NY):
  a  Mon 19 Jan 15:00 → 10:00 on a holiday      off   inbound  response 2 h
  b  Tue 20 Jan 14:00 → 09:00                   in    inbound  response 1 h
  c  Tue 20 Jan 13:59 → 08:59                   off   event    response 4 h
  d  Wed 21 Jan 21:59 → 16:59                   in    event    response 3 h
  e  Wed 21 Jan 22:00 → 17:00 (end is closed)   off   inbound  untouched
  f  Sat 24 Jan 15:00 → weekend                 off   inbound  response 6 h
  g  Mon 26 Jan 15:00 → 10:00                   in    inbound  response 5 h
  i  came in Sat 24 Jan 16:00 (off), re-assigned Mon 26 Jan 14:30: arrival is when it came in
Left out: an outbound cycle without a policy, and an off-hours cycle marked an exception.
Total 8, off-hours a c e f i = 5 → 62.5%; in-hours responses 1, 3, 5 → median 3, p90 3 + 0.8 × 2
= 4.6; off-hours 2, 4, 6 → median 4, p90 5.6. Inbound: 6, off 4 (66.7%), in 1, 5 → median 3;
off 2, 6 → median 4. Event: 2, off 1 (50%). Week of 19 Jan: a-f and i = 7, off 5 (71.4%), in
1, 3 → median 2; week of 26 Jan: g alone, in-hours, 5 h.
"""

from __future__ import annotations

import datetime as dt

import pytest

from apps.leads.models import ExceptionReason, LeadCycle, SlaPolicy
from apps.leads.services import lead_cycle_exception_mark
from apps.reporting.tests.conftest import csv_table, html_table, make_cycle

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def arrivals(sdr, manager):
    sdr.time_zone = "America/New_York"
    sdr.save(update_fields=["time_zone"])
    policy = SlaPolicy.objects.get(lead_type="inbound", source="", active=True)
    policy.holiday_country = "US"
    policy.save()
    for assigned, source, response in [
        (utc(19, 15), "inbound", 2), (utc(20, 14), "inbound", 1), (utc(20, 13, 59), "event", 4),
        (utc(21, 21, 59), "event", 3), (utc(21, 22), "inbound", None), (utc(24, 15), "inbound", 6),
        (utc(26, 15), "inbound", 5),
    ]:
        touch = None if response is None else assigned + response * H
        make_cycle(sdr, assigned, touch=touch, source=source, response_time=touch and response * H)
    reassigned = make_cycle(sdr, utc(26, 14, 30))
    LeadCycle.objects.filter(pk=reassigned.pk).update(created_at=utc(24, 16))
    LeadCycle.objects.update(sla_policy=policy)
    make_cycle(sdr, utc(20, 3), touch=utc(20, 4), lead_type="outbound")  # no policy: no business hours
    excepted = make_cycle(sdr, utc(22, 2))
    LeadCycle.objects.filter(pk=excepted.pk).update(sla_policy=policy)
    lead_cycle_exception_mark(cycle=excepted, reason=ExceptionReason.objects.first(), actor=manager)


COLUMNS = ("Leads with business hours", "Arrived off-hours", "Off-hours share", "Median response in-hours (h)",
           "Median response off-hours (h)", "P90 in-hours (h)", "P90 off-hours (h)")


def rows(html, key):
    table = html_table(html, key)
    col = {name: i for i, name in enumerate(table[0])}
    return {row[0]: [row[col[c]] for c in COLUMNS] for row in table[1:]}


def test_off_hours_share_and_response_times_worked_out(report, manager, arrivals):
    period = {"date_from": "2026-01-19", "date_to": "2026-02-01"}
    html = report(manager, "lead-response", **period).content.decode()
    by_source = rows(html, "off-hours-by-source")
    assert by_source == {
        "Event": ["2", "1", "50.0%", "3.0", "4.0", "3.0", "4.0"],
        "Inbound": ["6", "4", "66.7%", "3.0", "4.0", "4.6", "5.6"],
        "All": ["8", "5", "62.5%", "3.0", "4.0", "4.6", "5.6"],
    }
    by_week = rows(html, "off-hours-by-week")
    assert by_week == {
        "2026-01-19": ["7", "5", "71.4%", "2.0", "4.0", "2.8", "5.6"],
        "2026-01-26": ["1", "0", "0.0%", "5.0", "—", "5.0", "—"],
        "All": ["8", "5", "62.5%", "3.0", "4.0", "4.6", "5.6"],
    }
    assert "Arrived off-hours" in html and "62.5%" in html
    exported = csv_table(report(manager, "lead-response", export="off-hours-by-week", **period).content.decode())
    assert exported[0][:3] == ["Week of", "Leads with business hours", "Arrived off-hours"]
    assert exported[-1][:4] == ["All", "8", "5", "62.5%"]
