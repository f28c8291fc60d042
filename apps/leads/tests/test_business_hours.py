"""Response time on calendar and business-hours clocks, including the Measurable Lead
Model's Friday example, a weekend, a public holiday and a time zone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.cadences.services import activity_create
from apps.leads.business_hours import BusinessCalendar
from apps.leads.models import SlaPolicy
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory, RepFactory

NY = ZoneInfo("America/New_York")


def policy(**kwargs) -> SlaPolicy:
    fields = {"name": "p", "lead_type": "inbound", "clock": "business", "working_days": "0,1,2,3,4"}
    return SlaPolicy(**{**fields, **kwargs})


def calendar(**kwargs) -> BusinessCalendar:
    return BusinessCalendar.for_policy(policy(**kwargs), time_zone="America/New_York")


def test_friday_example_business_hours():
    friday = dt.datetime(2026, 11, 13, 15, 5, tzinfo=NY)
    monday = dt.datetime(2026, 11, 16, 9, 4, tzinfo=NY)
    assert monday - friday == dt.timedelta(hours=65, minutes=59)
    assert calendar().elapsed(friday, monday) == dt.timedelta(hours=1, minutes=59)


def test_weekend_leads_start_counting_monday_morning():
    saturday = dt.datetime(2026, 11, 14, 11, 0, tzinfo=NY)
    monday = dt.datetime(2026, 11, 16, 10, 30, tzinfo=NY)
    assert calendar().elapsed(saturday, monday) == dt.timedelta(hours=1, minutes=30)
    assert calendar().add(saturday, dt.timedelta(hours=2)) == dt.datetime(2026, 11, 16, 11, 0, tzinfo=NY)


def test_public_holiday_is_not_a_business_day():
    # Thanksgiving 2026 is Thursday 26 November in the US calendar of the `holidays` package.
    wednesday = dt.datetime(2026, 11, 25, 16, 0, tzinfo=NY)
    friday = dt.datetime(2026, 11, 27, 10, 0, tzinfo=NY)
    assert calendar(holiday_country="US").elapsed(wednesday, friday) == dt.timedelta(hours=2)
    assert calendar().elapsed(wednesday, friday) == dt.timedelta(hours=10)
    assert calendar(holiday_country="US").add(wednesday, dt.timedelta(hours=2)) == friday


def test_clock_runs_in_the_reps_time_zone():
    # 14:00 UTC is 09:00 in New York in winter: the rep's day has just begun.
    start = dt.datetime(2026, 1, 5, 13, 0, tzinfo=dt.UTC)
    end = dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.UTC)
    assert calendar().elapsed(start, end) == dt.timedelta(hours=1)
    london = BusinessCalendar.for_policy(policy(), time_zone="Europe/London")
    assert london.elapsed(start, end) == dt.timedelta(hours=2)


def test_policy_validation_messages():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="weekday numbers"):
        policy(working_days="mon,tue").clean()
    with pytest.raises(ValidationError, match="No public-holiday calendar"):
        policy(holiday_country="QQ").clean()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("clock", "expected"),
    [("calendar", dt.timedelta(hours=65, minutes=59)), ("business", dt.timedelta(hours=1, minutes=59))],
)
def test_friday_example_end_to_end_through_a_policy(clock, expected):
    SlaPolicy.objects.filter(lead_type="inbound", source="").update(clock=clock)
    rep = RepFactory(time_zone="America/New_York")
    contact = ContactFactory()
    with time_machine.travel(dt.datetime(2026, 11, 13, 15, 5, tzinfo=NY), tick=False):
        cycle = lead_cycle_open(contact=contact, rep=rep)
    with time_machine.travel(dt.datetime(2026, 11, 16, 9, 4, tzinfo=NY), tick=False):
        activity_create(rep=rep, contact=contact, type="call")
    cycle.refresh_from_db()
    assert cycle.response_time == expected
    if clock == "business":
        # Target 2 business hours from Friday 15:05: Monday 09:05; maximum 24 business hours (three
        # 8-hour days) later: 1 h 55 Friday, Monday, Tuesday, 6 h 05 on Wednesday.
        assert cycle.sla_target_at == dt.datetime(2026, 11, 16, 9, 5, tzinfo=NY)
        assert cycle.sla_maximum_at == dt.datetime(2026, 11, 18, 15, 5, tzinfo=NY)
    else:
        assert cycle.sla_target_at == dt.datetime(2026, 11, 13, 17, 5, tzinfo=NY)
