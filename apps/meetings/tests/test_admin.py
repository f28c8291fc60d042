from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.meetings.models import Meeting, MeetingSettingsChange, Opportunity, OpportunityEvent
from apps.meetings.selectors import stage_by_code
from apps.meetings.services import meeting_book, opportunity_create
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_sdr_books_from_the_contact_with_defaults_filled_in(client, pod, contact, start):
    client.force_login(pod["sdr"].user)
    url = reverse("admin:meetings_meeting_book", args=[contact.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.fields["ae"].initial == pod["ae"].pk
    assert form["duration_minutes"].value() == 30 and form["kind"].value() == "iqm"
    response = client.post(url, {
        "sdr": pod["sdr"].pk, "ae": pod["ae"].pk, "kind": "iqm", "scheduled_at": _local(start),
        "duration_minutes": 45, "sdr_attends": "on", "notes": "Evaluating vendors",
    })
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:meetings_meeting_change", args=[meeting.pk])
    assert meeting.scheduled_at == start and meeting.scheduled_end_at == start + dt.timedelta(minutes=45)
    assert meeting.booked_by == pod["sdr"].user and meeting.notes == "Evaluating vendors"


def test_booking_in_the_past_shows_the_error_on_the_field(client, pod, contact, start):
    client.force_login(pod["sdr"].user)
    response = client.post(reverse("admin:meetings_meeting_book", args=[contact.pk]), {
        "sdr": pod["sdr"].pk, "ae": pod["ae"].pk, "kind": "iqm",
        "scheduled_at": _local(start - dt.timedelta(days=10)), "duration_minutes": 30,
    })
    assert response.status_code == 200
    assert "is booked in the future" in str(response.context["form"].errors["scheduled_at"])
    assert not Meeting.objects.exists()


def test_sdr_cannot_book_a_contact_outside_their_book(client, pod, other_sdr):
    account = AccountFactory()
    account_set_owner(account=account, to_rep=other_sdr, reason="manual")
    stranger = ContactFactory(account=account)
    client.force_login(pod["sdr"].user)
    assert client.get(reverse("admin:meetings_meeting_book", args=[stranger.pk])).status_code == 404


def test_ae_cannot_book(client, pod, contact):
    client.force_login(pod["ae"].user)
    assert client.get(reverse("admin:meetings_meeting_book", args=[contact.pk])).status_code == 403


def test_ae_sees_meetings_to_disposition_first_and_dispositions_in_two_clicks(client, pod, contact, start):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    client.force_login(pod["ae"].user)
    with time_machine.travel(meeting.scheduled_end_at + dt.timedelta(minutes=5), tick=False):
        index = client.get(reverse("admin:index"))
        html = index.content.decode()
        assert "My meetings to disposition" in html
        link = reverse("admin:meetings_meeting_disposition", args=[meeting.pk])
        assert link in html
        # First on the AE's home (issue 17 replaced the app list with menus), above the other boxes.
        assert html.index("My meetings to disposition") < html.index('id="home-upcoming"')
        page = client.get(link + "?next=/admin/")  # click 1
        assert page.status_code == 200
        response = client.post(link, {"outcome": "completed_qualified", "next": "/admin/"})  # click 2
    assert response.status_code == 302 and response["Location"] == "/admin/"
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.COMPLETED_QUALIFIED
    assert Opportunity.objects.get().sourcing_sdr == pod["sdr"]


def test_disposition_form_requires_the_lead_reason_for_unqualified(client, pod, contact, start):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    client.force_login(pod["ae"].user)
    with time_machine.travel(meeting.scheduled_end_at, tick=False):
        response = client.post(reverse("admin:meetings_meeting_disposition", args=[meeting.pk]),
                               {"outcome": "completed_unqualified"})
    assert response.status_code == 200
    assert "lead_reason" in response.context["form"].errors
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


def test_sdr_cannot_disposition_and_other_sdr_cannot_even_see_the_meeting(client, pod, contact, start, other_sdr):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    link = reverse("admin:meetings_meeting_disposition", args=[meeting.pk])
    with time_machine.travel(meeting.scheduled_end_at, tick=False):
        client.force_login(pod["sdr"].user)
        assert client.get(link).status_code == 403
        client.force_login(other_sdr.user)
        assert client.get(link).status_code == 404
        assert client.get(reverse("admin:meetings_meeting_change", args=[meeting.pk])).status_code == 302


def test_manager_sees_the_teams_overdue_dispositions(client, pod, contact, start, other_sdr):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    client.force_login(pod["manager"].user)
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(hours=1), tick=False):
        html = client.get(reverse("admin:index")).content.decode()
        assert "Overdue meeting dispositions in my team" in html and "Peter Gibbons" in html
        listing = client.get(reverse("admin:meetings_meeting_changelist") + "?queue=overdue")
        assert [m.pk for m in listing.context["cl"].result_list] == [meeting.pk]
        client.force_login(other_sdr.user)
        listing = client.get(reverse("admin:meetings_meeting_changelist"))
        assert list(listing.context["cl"].result_list) == []


def test_meeting_changelist_runs_a_fixed_number_of_queries(client, pod, contact, start, ops, django_assert_max_num_queries):
    for i in range(25):
        meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start + dt.timedelta(hours=i))
    client.force_login(ops.user)
    client.get(reverse("admin:meetings_meeting_changelist"))  # the session and the per-process caches warm
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:meetings_meeting_changelist"))
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 25


def test_reschedule_and_cancel_views(client, pod, contact, start):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    client.force_login(pod["sdr"].user)
    response = client.post(reverse("admin:meetings_meeting_reschedule", args=[meeting.pk]),
                           {"scheduled_at": _local(start + dt.timedelta(days=1)), "duration_minutes": 30, "notes": ""})
    new = Meeting.objects.get(previous_meeting=meeting)
    assert response.status_code == 302 and new.scheduled_at == start + dt.timedelta(days=1)
    response = client.post(reverse("admin:meetings_meeting_cancel", args=[new.pk]), {"cancelled_by": "prospect"})
    new.refresh_from_db()
    assert response.status_code == 302 and new.status == Meeting.Status.CANCELLED and new.cancelled_by == "prospect"


def test_opportunity_admin_stage_change_records_history_and_merge_needs_parent(client, pod, contact):
    opportunity = opportunity_create(account=contact.account, owner=pod["ae"], sourcing_sdr=pod["sdr"],
                                     actor=pod["ae"].user)
    client.force_login(pod["ae"].user)
    url = reverse("admin:meetings_opportunity_change", args=[opportunity.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Stage history" in page.content.decode()
    base = {"name": opportunity.name, "owner": pod["ae"].pk, "amount": "15000", "close_date": "2026-12-31",
            "closed_lost_details": "", "cs_owner": "", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "1",
            "events-MIN_NUM_FORMS": "0", "events-MAX_NUM_FORMS": "1000"}
    response = client.post(url, {**base, "stage": stage_by_code("closed_lost").pk, "closed_lost_reason": "merged",
                                 "merged_into": ""})
    assert response.status_code == 200
    assert "needs the parent opportunity" in str(response.context["adminform"].form.errors)
    response = client.post(url, {**base, "stage": stage_by_code("pipeline").pk, "closed_lost_reason": "",
                                 "merged_into": ""})
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "pipeline" and str(opportunity.amount) == "15000.00"
    event = opportunity.events.get(kind=OpportunityEvent.Kind.STAGE)
    assert event.actor == pod["ae"].user and event.to_stage.code == "pipeline"


def test_sdr_sees_sourced_opportunities_read_only(client, pod, contact, other_sdr):
    mine = opportunity_create(account=contact.account, owner=pod["ae"], sourcing_sdr=pod["sdr"], actor=None)
    client.force_login(pod["sdr"].user)
    listing = client.get(reverse("admin:meetings_opportunity_changelist"))
    assert [o.pk for o in listing.context["cl"].result_list] == [mine.pk]
    client.force_login(other_sdr.user)
    listing = client.get(reverse("admin:meetings_opportunity_changelist"))
    assert list(listing.context["cl"].result_list) == []


def test_settings_admin_records_each_change(client, ops):
    client.force_login(ops.user)
    response = client.get(reverse("admin:meetings_meetingsettings_changelist"))
    assert response.status_code == 302
    url = response["Location"]
    data = {"no_show_limit": 3, "reschedule_touches": 5, "reschedule_days": 10, "disposition_due_hours": 24,
            "default_duration_minutes": 30, "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "1000"}
    assert client.post(url, data).status_code == 302
    changes = sorted(MeetingSettingsChange.objects.values_list("field", "old_value", "new_value"))
    assert changes == [("no_show_limit", "2", "3"), ("reschedule_days", "7", "10")]


@pytest.mark.parametrize("name", ["meeting", "opportunity", "opportunitystage", "meetingsettings",
                                  "rescheduleattempt", "meetingnotification"])
def test_changelists_render_for_ops(client, ops, name):
    client.force_login(ops.user)
    response = client.get(reverse(f"admin:meetings_{name}_changelist"), follow=True)
    assert response.status_code == 200


def test_contact_page_links_to_booking_and_lists_meetings(client, pod, contact, start):
    meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    client.force_login(pod["sdr"].user)
    html = client.get(reverse("admin:people_contact_change", args=[contact.pk])).content.decode()
    assert reverse("admin:meetings_meeting_book", args=[contact.pk]) in html
    assert "Initial qualifying meeting with Abe Closer" in html


def test_booking_times_are_typed_in_the_reps_time_zone(client, pod, contact):
    sdr = pod["sdr"]
    sdr.time_zone = "America/New_York"
    sdr.save()
    client.force_login(sdr.user)
    url = reverse("admin:meetings_meeting_book", args=[contact.pk])
    assert "In your time zone (America/New_York)" in client.get(url).content.decode()
    local_day = (timezone.now() + dt.timedelta(days=3)).date()
    client.post(url, {"sdr": sdr.pk, "ae": pod["ae"].pk, "kind": "iqm", "scheduled_at": f"{local_day}T10:00",
                      "duration_minutes": 30})
    meeting = Meeting.objects.get()
    assert timezone.localtime(meeting.scheduled_at, timezone=zoneinfo.ZoneInfo("America/New_York")).hour == 10


def test_meeting_page_shows_what_can_be_done_next(client, pod, contact, start):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    client.force_login(pod["ae"].user)
    html = client.get(reverse("admin:meetings_meeting_change", args=[meeting.pk])).content.decode()
    assert reverse("admin:meetings_meeting_reschedule", args=[meeting.pk]) in html
    with time_machine.travel(meeting.scheduled_end_at, tick=False):
        html = client.get(reverse("admin:meetings_meeting_change", args=[meeting.pk])).content.decode()
    assert reverse("admin:meetings_meeting_disposition", args=[meeting.pk]) in html


def test_ops_opens_an_opportunity_in_the_admin(client, ops, pod, contact):
    client.force_login(ops.user)
    response = client.post(reverse("admin:meetings_opportunity_add"), {
        "name": "Initech – expansion", "account": contact.account.pk, "owner": pod["ae"].pk,
        "stage": stage_by_code("pipeline").pk, "amount": "30000", "close_date": "", "closed_lost_reason": "",
        "merged_into": "", "closed_lost_details": "", "cs_owner": "",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 302
    opportunity = Opportunity.objects.get()
    assert opportunity.stage.code == "pipeline" and opportunity.pipeline_at is not None
    assert opportunity.sourcing_sdr == pod["sdr"]  # the account's SDR owner gets the credit
    assert opportunity.events.get().kind == OpportunityEvent.Kind.CREATED


def test_index_panel_and_opportunity_list_run_a_fixed_number_of_queries(
    client, pod, contact, start, django_assert_max_num_queries
):
    meetings = [
        meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start + dt.timedelta(hours=i))
        for i in range(20)
    ]
    for meeting in meetings[:10]:
        opportunity_create(account=contact.account, owner=pod["ae"], sourcing_sdr=pod["sdr"], actor=None,
                           source_meeting=meeting)
    client.force_login(pod["ae"].user)
    with time_machine.travel(meetings[-1].scheduled_end_at, tick=False), django_assert_max_num_queries(25):
        html = client.get(reverse("admin:index")).content.decode()
    assert html.count("meeting-disposition") == 15 and "All 20" in html
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("admin:meetings_opportunity_changelist"))
    assert len(listing.context["cl"].result_list) == 10


def test_ops_books_on_behalf_of_the_accounts_sdr(client, ops, pod, contact, start):
    client.force_login(ops.user)
    url = reverse("admin:meetings_meeting_book", args=[contact.pk])
    form = client.get(url).context["form"]
    assert form.fields["sdr"].initial == pod["sdr"].pk and form.fields["ae"].initial == pod["ae"].pk
    response = client.post(url, {"sdr": pod["sdr"].pk, "ae": pod["smb_ae"].pk, "kind": "demo",
                                 "scheduled_at": _local(start), "duration_minutes": 60})
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.sdr == pod["sdr"] and meeting.ae == pod["smb_ae"] and meeting.booked_by == ops.user
