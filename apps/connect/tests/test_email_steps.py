"""Cadence email steps end to end: a template with merge fields, the rep's review and send
from the lead page (or the automatic job), delivery over SMTP to a real server on 127.0.0.1
(aiosmtpd), the opt-out rule, and replies/bounces reported through POST /api/activities/."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Activity
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.cadences.models import Enrolment, EnrolmentStep
from apps.cadences.services import activity_create, enrolment_create, enrolment_step_skip
from apps.cadences.tests.factories import cadence_with_steps
from apps.connect.email_steps import cadence_email_send
from apps.connect.models import CadenceEmail, EmailOptOut, EmailStepTemplate, OutboundEmail, RepSignature
from apps.connect.tasks import send_due_cadence_emails
from apps.integrations.models import Scope
from apps.integrations.services import integration_create
from apps.leads.models import LeadCycle
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

SUBJECT = "{{ first_name }}, a quick question about {{ account }}"
BODY = "Hi {{ first_name }},\n\nDoes {{ account }} still run its books by hand?\n\n{{ signature }}\n"


@pytest.fixture
def lead(sdr):
    sdr.user.email = "sam@sdrops.test"
    sdr.user.save()
    RepSignature.objects.create(rep=sdr, text="Sam Seller\nSDR, sdrops · +1 555 0100")
    account = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    contact = ContactFactory(account=account, first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    cadence = cadence_with_steps(steps=((0, "email"), (2, "call"), (4, "email"), (6, "call")))
    first, _call, last, _final_call = cadence.steps.order_by("position")
    template = EmailStepTemplate.objects.create(step=first, subject=SUBJECT, body=BODY)
    EmailStepTemplate.objects.create(step=last, subject="Last try, {{ first_name }}", body="{{ signature }}",
                                     automatic=True)
    enrolment = enrolment_create(contact=contact, cadence=cadence, rep=sdr, actor=sdr.user)
    return {"contact": contact, "enrolment": enrolment, "template": template, "sdr": sdr}


def step(lead, position) -> EnrolmentStep:
    return lead["enrolment"].steps.get(position=position)


def test_rep_reviews_and_sends_from_the_lead_page_over_smtp(lead, client, smtp, django_capture_on_commit_callbacks):
    sdr, contact = lead["sdr"], lead["contact"]
    client.force_login(sdr.user)
    page = client.get(reverse("admin:cadences_lead_page", args=[contact.pk])).content.decode()
    compose_url = reverse("admin:connect_cadenceemail_compose", args=[step(lead, 1).pk])
    assert compose_url in page
    review = client.get(compose_url).content.decode()
    assert "Peter, a quick question about Initech" in review and "Sam Seller &lt;sam@sdrops.test&gt;" in review
    body = "Hi Peter,\n\nDoes Initech still run its books by hand? Saw your post.\n\nSam Seller\nSDR, sdrops · +1 555 0100\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(compose_url, {"subject": "Peter, a quick question about Initech", "body": body})
    assert response.status_code == 302 and response["Location"].endswith(f"/lead/{contact.pk}/")
    [received] = smtp.messages
    message = received["message"]
    assert received["rcpt_tos"] == ["peter@initech.com"] and received["mail_from"] == "sam@sdrops.test"
    assert message["From"] == "Sam Seller <sam@sdrops.test>" and message["Reply-To"] == "sam@sdrops.test"
    assert message["To"] == "peter@initech.com"
    assert str(message["Subject"]).strip() == "Peter, a quick question about Initech"
    assert message.get_content().replace("\r\n", "\n") == body
    assert message["X-Sdrops-Cadence-Step"] == str(step(lead, 1).pk)
    outbound = OutboundEmail.objects.get()
    assert message["Message-ID"] == outbound.message_id and outbound.status == "sent"
    # The rep's reviewed send is a real touch: the lead is working and the step is done.
    activity = Activity.objects.get(contact=contact)
    assert (activity.type, activity.automated, activity.rep) == ("email", False, sdr)
    assert LeadCycle.objects.get(contact=contact).state == LeadCycle.State.WORKING
    first = step(lead, 1)
    assert (first.outcome, first.activity) == ("no_response", activity)
    assert CadenceEmail.objects.get().status == "sent"
    # The same step cannot be mailed twice.
    with pytest.raises(ValidationError, match="already sent"):
        cadence_email_send(step=first, actor=sdr.user)


def test_a_missing_merge_field_refuses_to_send(lead, smtp, django_capture_on_commit_callbacks):
    contact = lead["contact"]
    contact.first_name = ""
    contact.save()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as error:
        cadence_email_send(step=step(lead, 1), actor=lead["sdr"].user)
    assert "Not sent: no value for {{ first_name }} (the contact's first name)." in error.value.messages
    assert not smtp.messages and not OutboundEmail.objects.exists() and not Activity.objects.exists()
    assert step(lead, 1).outcome == "pending"


def test_reviewed_text_with_an_unknown_field_is_refused(lead, smtp):
    with pytest.raises(ValidationError, match="not a merge field"):
        cadence_email_send(step=step(lead, 1), actor=lead["sdr"].user, subject="Hi {{ nickname }}", body="x")


def test_opted_out_contact_is_never_emailed(lead, client, smtp, django_capture_on_commit_callbacks):
    EmailOptOut.objects.create(email="Peter@Initech.com", reason=EmailOptOut.Reason.OPTED_OUT)
    client.force_login(lead["sdr"].user)
    compose_url = reverse("admin:connect_cadenceemail_compose", args=[step(lead, 1).pk])
    assert "on the opt-out list (opted out)" in client.get(compose_url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(compose_url, {"subject": "Hi", "body": "Hello"}, follow=True).content.decode()
    assert "the portal never emails them" in page
    # The automatic job neither: it records the refusal once and does not retry it.
    activity_create(rep=lead["sdr"], contact=lead["contact"], type="call", actor=lead["sdr"].user)  # step 1 → done
    activity_create(rep=lead["sdr"], contact=lead["contact"], type="call", actor=lead["sdr"].user)  # step 2 → done
    with time_machine.travel(timezone.now() + dt.timedelta(days=5)), django_capture_on_commit_callbacks(execute=True):
        assert send_due_cadence_emails() == 0
        assert send_due_cadence_emails() == 0
    assert not smtp.messages and not OutboundEmail.objects.exists()
    refused = CadenceEmail.objects.get(enrolment_step=step(lead, 3))
    assert refused.status == "refused" and "opt-out list" in refused.reason
    assert step(lead, 3).outcome == "pending"  # left to the rep


def test_automatic_step_is_sent_when_due_as_an_automated_touch(lead, smtp, sdr, django_capture_on_commit_callbacks):
    contact = lead["contact"]
    enrolment_step_skip(step=step(lead, 1), actor=sdr.user)
    enrolment_step_skip(step=step(lead, 2), actor=sdr.user)
    assert send_due_cadence_emails() == 0  # step 3 is due on day 4
    later = timezone.now() + dt.timedelta(days=4, minutes=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert send_due_cadence_emails() == 1
        assert send_due_cadence_emails() == 0  # idempotent
    [received] = smtp.messages
    assert received["message"]["From"] == "Sam Seller <sam@sdrops.test>"
    assert str(received["message"]["Subject"]).strip() == "Last try, Peter"
    activity = Activity.objects.get(contact=contact)
    assert activity.automated is True
    # An automated touch never works the lead, nor counts as its first response.
    cycle = LeadCycle.objects.get(contact=contact)
    assert cycle.state == LeadCycle.State.ASSIGNED and cycle.first_touch_at is None
    last = step(lead, 3)
    assert last.outcome == "no_response" and last.ended_by_system and last.activity == activity
    assert CadenceEmail.objects.get(enrolment_step=last).automatic is True


@pytest.fixture
def mail_system(sdr):
    _integration, token = integration_create(
        name="mail-sync", user=sdr.user, scopes=[Scope.READ, Scope.WRITE_LEADS_ACTIVITIES], throttle_rate=""
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_reply_reported_through_the_api_stops_the_cadence(lead, mail_system, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cadence_email_send(step=step(lead, 1), actor=lead["sdr"].user)
    response = mail_system.post("/api/activities/", {
        "type": "email_reply", "contact_email": "peter@initech.com", "subject": "Re: a quick question",
    }, format="json")
    assert response.status_code == 201, response.json()
    enrolment = Enrolment.objects.get(pk=lead["enrolment"].pk)
    assert enrolment.state == Enrolment.State.POSITIVE
    assert step(lead, 1).outcome == "positive"  # the answered email step
    assert step(lead, 2).outcome == "pending"
    assert CadenceEmail.objects.get().status == "replied"
    # The reply is the contact's, not a rep's touch: it does not count as another touch.
    assert Activity.objects.filter(contact=lead["contact"], type="email_reply", automated=False).count() == 1


def test_negative_reply_ends_the_cadence_negative(lead, mail_system, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cadence_email_send(step=step(lead, 1), actor=lead["sdr"].user)
    response = mail_system.post("/api/activities/", {
        "type": "email_reply", "contact_email": "peter@initech.com", "outcome": "negative",
    }, format="json")
    assert response.status_code == 201, response.json()
    assert Enrolment.objects.get(pk=lead["enrolment"].pk).state == Enrolment.State.NEGATIVE


def test_bounce_stops_the_cadence_and_suppresses_the_address(lead, mail_system, smtp,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cadence_email_send(step=step(lead, 1), actor=lead["sdr"].user)
    response = mail_system.post("/api/activities/", {
        "type": "email_bounce", "contact_email": "peter@initech.com", "subject": "550 5.1.1 mailbox unknown",
    }, format="json")
    assert response.status_code == 201, response.json()
    assert Enrolment.objects.get(pk=lead["enrolment"].pk).state == Enrolment.State.STOPPED
    opt_out = EmailOptOut.objects.get(email="peter@initech.com")
    assert opt_out.reason == "bounced" and "550 5.1.1" in opt_out.note
    assert CadenceEmail.objects.get().status == "bounced"


def test_template_admin_refuses_unknown_merge_fields_and_non_email_steps(lead, ops, client):
    client.force_login(ops.user)
    call_step = lead["enrolment"].cadence.steps.get(position=2)
    response = client.post(reverse("admin:connect_emailsteptemplate_add"), {
        "step": call_step.pk, "subject": "Hi {{ nick }}", "body": "Hello {{ first_name", "automatic": "",
    })
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown merge field(s): nick" in page and "A merge field is not closed" in page
    assert "Select a valid choice" in page  # a call step is not offered for an email template
