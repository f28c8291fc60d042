"""Follow-up tasks (issue 22 item 6): logged on a nurtured lead, shown on the rep's home and
the lead/account pages, reminded once by the job, moved with the account (or kept, by the
rules of engagement), completed with an activity; the API carries them."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import Activity
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.cadences import tasks
from apps.cadences.follow_ups import follow_up_complete, follow_up_create
from apps.cadences.models import FollowUpTask, FollowUpTaskEvent
from apps.leads.models import DispositionReason
from apps.leads.services import lead_cycle_disposition, lead_cycle_open
from apps.people.tests.factories import ContactFactory
from apps.routing.models import RulesOfEngagement

pytestmark = pytest.mark.django_db
DUE = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def nurtured(sdr):
    account = AccountFactory(name="Nurture Co")
    account_set_owner(account=account, to_rep=sdr, reason="distribution")
    contact = ContactFactory(account=account, first_name="Nina", last_name="Later")
    cycle = lead_cycle_open(contact=contact, rep=sdr)
    lead_cycle_disposition(cycle=cycle, disposition="nurture", actor=sdr,
                           reason=DispositionReason.objects.get(label="Budget not available for 6+ months"))
    return contact


def test_logged_on_the_lead_page_shown_everywhere_and_done_with_an_activity(client, sdr, nurtured):
    client.force_login(sdr.user)
    lead_page = reverse("admin:cadences_lead_page", args=[nurtured.pk])
    client.post(lead_page, {"action": "follow_up", "follow_up-title": "Call back: budget in Q3",
                            "follow_up-due_at": "2026-03-02T09:00"})
    task = FollowUpTask.objects.get()
    assert (task.rep, task.account, task.lead_cycle.disposition, task.status) == (sdr, nurtured.account, "nurture", "open")
    assert "Call back: budget in Q3" in client.get(lead_page).content.decode()
    home = client.get(reverse("admin:index")).content.decode()
    assert 'id="home-follow-ups"' in home and "Call back: budget in Q3" in home
    record = client.get(reverse("admin:workspace_account_record", args=[nurtured.account_id])).content.decode()
    assert "Call back: budget in Q3" in record.split('id="record-follow-ups"')[1].split("</table>")[0]

    client.post(lead_page, {"action": "follow_up_done", "task": task.pk, "activity_type": "call"})
    task.refresh_from_db()
    activity = Activity.objects.get(contact=nurtured)
    assert (task.status, task.activity, activity.type, activity.rep, activity.subject) == (
        "done", activity, "call", sdr, "Follow-up: Call back: budget in Q3")
    assert list(task.events.values_list("kind", flat=True)) == ["created", "done"]
    assert "No open follow-ups." in client.get(lead_page).content.decode()


def test_reminder_is_sent_once_when_due(sdr, nurtured, django_capture_on_commit_callbacks):
    task = follow_up_create(rep=sdr, contact=nurtured, title="Call back", due_at=DUE, actor=sdr)
    with time_machine.travel(DUE - dt.timedelta(minutes=1), tick=False):
        assert tasks.follow_up_reminders() == 0
    with time_machine.travel(DUE, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.follow_up_reminders() == 1
        assert tasks.follow_up_reminders() == 0  # run twice: nothing more
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [sdr.user.email] and message.subject == "Follow-up due: Call back — Nina Later"
    assert f"/admin/cadences/enrolment/lead/{nurtured.pk}/" in message.body
    task.refresh_from_db()
    assert task.reminded_at == DUE and task.events.filter(kind=FollowUpTaskEvent.Kind.REMINDED).count() == 1


def test_moves_with_the_account_or_stays_by_the_rules_of_engagement(sdr, other_sdr, nurtured):
    task = follow_up_create(rep=sdr, contact=nurtured, title="Call back", due_at=DUE, actor=sdr)
    done = follow_up_create(rep=sdr, contact=nurtured, title="Old one", due_at=DUE, actor=sdr)
    follow_up_complete(task=done, actor=sdr, activity_type="note")
    account_set_owner(account=nurtured.account, to_rep=other_sdr, reason="manual")
    task.refresh_from_db()
    done.refresh_from_db()
    assert (task.rep, done.rep) == (other_sdr, sdr)  # done tasks stay where they were done
    moved = task.events.get(kind=FollowUpTaskEvent.Kind.MOVED)
    assert (moved.from_rep, moved.to_rep) == (sdr, other_sdr)

    rules = RulesOfEngagement.load()
    rules.follow_ups_move_with_account = False
    rules.save()
    account_set_owner(account=nurtured.account, to_rep=sdr, reason="manual")
    task.refresh_from_db()
    assert task.rep == other_sdr


def test_api_logs_lists_and_completes(sdr, other_sdr, nurtured):
    api = APIClient()
    api.force_login(sdr.user)
    created = api.post("/api/follow-ups/", {"contact": nurtured.pk, "title": "Send the case study",
                                            "due_at": "2026-03-02T14:00:00Z"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["rep"] == sdr.pk and created.json()["account"] == nurtured.account_id
    hidden = ContactFactory()
    refused = api.post("/api/follow-ups/", {"contact": hidden.pk, "title": "x", "due_at": "2026-03-02T14:00:00Z"},
                       format="json")
    assert refused.status_code == 400 and refused.json()["errors"]["contact"] == [
        f"No contact with id {hidden.pk} in your scope."]
    listed = api.get("/api/follow-ups/", {"status": "open"}).json()
    assert [row["title"] for row in listed["results"]] == ["Send the case study"]
    done = api.post(f"/api/follow-ups/{created.json()['id']}/complete/", {"activity_type": "email"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["activity"]
    other = APIClient()
    other.force_login(other_sdr.user)
    assert other.get(f"/api/follow-ups/{created.json()['id']}/").status_code == 404
