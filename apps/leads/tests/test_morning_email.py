"""The manager's 07:00 "clean your room" email: only their team, the right sections with
links, once a day in their time zone, and the outbound pull-range alerts."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from apps.cadences.services import activity_create, enrolment_create
from apps.cadences.tests.factories import cadence_with_steps
from apps.leads.models import LifecycleSettings, MorningEmail, TeamPullRange
from apps.leads.services import lead_cycle_open
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
THURSDAY_7AM_NY = dt.datetime(2026, 3, 5, 7, 0, tzinfo=NY)


@pytest.fixture
def world(team, other_team, manager, sdr, other_sdr):
    manager.time_zone = "America/New_York"
    manager.save()
    west_manager = RepFactory(role=Rep.Role.MANAGER, team=other_team, owner_name="Wes West", time_zone="Europe/London")
    other_team.manager = west_manager
    other_team.save()
    teammate = RepFactory(role=Rep.Role.SDR, team=team, owner_name="Tia Teammate")
    wednesday = dt.datetime(2026, 3, 4, 10, 0, tzinfo=NY)
    with time_machine.travel(wednesday, tick=False):
        late = lead_cycle_open(contact=ContactFactory(email="late@acme.com"), rep=sdr)
        west_late = lead_cycle_open(contact=ContactFactory(email="west@acme.com"), rep=other_sdr)
        for n in range(3):
            lead_cycle_open(contact=ContactFactory(email=f"pull{n}@acme.com"), rep=sdr, lead_type="outbound")
        for n in range(12):
            lead_cycle_open(contact=ContactFactory(email=f"tia{n}@acme.com"), rep=teammate, lead_type="outbound")
        enrolment = enrolment_create(
            contact=ContactFactory(email="cadence@acme.com"), cadence=cadence_with_steps(), rep=sdr
        )
    with time_machine.travel(THURSDAY_7AM_NY - dt.timedelta(minutes=30), tick=False):
        fresh = lead_cycle_open(contact=ContactFactory(email="fresh@acme.com"), rep=sdr)
    return {"late": late, "west_late": west_late, "fresh": fresh, "enrolment": enrolment, "west_manager": west_manager,
            "teammate": teammate}


def run_at(run_task, at):
    with time_machine.travel(at, tick=False):
        return run_task("apps.leads.tasks.lead_morning_emails")


def test_sent_at_seven_local_once_a_day(world, manager, run_task):
    assert run_at(run_task, THURSDAY_7AM_NY - dt.timedelta(minutes=1)) == 0
    assert run_at(run_task, THURSDAY_7AM_NY) == 1
    assert run_at(run_task, THURSDAY_7AM_NY + dt.timedelta(hours=1)) == 0
    assert [m.to for m in mail.outbox] == [[manager.user.email]]
    assert MorningEmail.objects.get().local_date == dt.date(2026, 3, 5)
    # London's 07:00 is earlier in UTC: its manager was served at their own hour.
    london_seven = dt.datetime(2026, 3, 6, 7, 0, tzinfo=LONDON)
    assert run_at(run_task, london_seven) == 1
    assert mail.outbox[-1].to == [world["west_manager"].user.email]


def test_content_is_the_managers_team_only_with_links(world, manager, sdr, run_task):
    run_at(run_task, THURSDAY_7AM_NY)
    (message,) = mail.outbox
    body, (html, mime) = message.body, message.alternatives[0]
    assert mime == "text/html"
    assert "Leads outside SLA" in body and "late@acme.com>" in body and "&lt;" not in body
    assert "2026-03-04 10:00 EST" in body  # the manager's own time zone
    assert "Leads assigned but untouched" in body and "fresh@acme.com" in body
    assert "Overdue cadence steps" in body and "cadence@acme.com" in body
    assert "west@acme.com" not in body and "west@acme.com" not in html
    late_link = f"/admin/cadences/enrolment/lead/{world['late'].contact_id}/"
    assert late_link in body and f'href="http://localhost:8000{late_link}"' in html
    outside = body.split("Leads outside SLA")[1].split("Leads assigned but untouched")[0]
    assert "late@acme.com" in outside and "fresh@acme.com" not in outside
    # Pull range (default 10-15): Sam pulled 3 yesterday (plus the enrolment = 4), Tia 12.
    assert "Sam Seller: pulled 4 (range 10-15)" in body and "Tia Teammate" not in body.split("Outbound pulls")[1]


def test_team_pull_range_is_editable_and_reps_inside_it_are_not_named(world, team, run_task):
    TeamPullRange.objects.create(team=team, minimum=2, maximum=5)
    run_at(run_task, THURSDAY_7AM_NY)
    body = mail.outbox[0].body
    assert "Tia Teammate: pulled 12 (range 2-5)" in body and "Sam Seller: pulled" not in body


def test_no_pull_alerts_after_a_weekend_day(world, manager, run_task):
    sunday_morning = dt.datetime(2026, 3, 9, 7, 0, tzinfo=NY)  # Monday; yesterday was Sunday
    run_at(run_task, sunday_morning)
    assert "Outbound pulls" not in mail.outbox[0].body


def test_touched_leads_leave_the_email_and_the_hour_is_editable(world, manager, sdr, run_task):
    with time_machine.travel(THURSDAY_7AM_NY - dt.timedelta(minutes=10), tick=False):
        activity_create(rep=sdr, contact=world["late"].contact, type="call")
    LifecycleSettings.objects.filter(pk=1).update(morning_email_hour=8)
    assert run_at(run_task, THURSDAY_7AM_NY) == 0
    assert run_at(run_task, THURSDAY_7AM_NY + dt.timedelta(hours=1)) == 1
    assert "late@acme.com" not in mail.outbox[0].body


def test_digest_queries_do_not_grow_with_the_team(world, manager, team, django_assert_max_num_queries):
    from apps.leads.morning import morning_digest_for

    before = morning_digest_for(manager=manager, now=THURSDAY_7AM_NY)
    for n in range(10):
        rep = RepFactory(role=Rep.Role.SDR, team=team)
        lead_cycle_open(contact=ContactFactory(email=f"more{n}@acme.com"), rep=rep)
    with django_assert_max_num_queries(8):
        digest = morning_digest_for(manager=manager, now=THURSDAY_7AM_NY)
    assert len(digest.untouched) == len(before.untouched) + 10
