"""Opportunities and contacts from the CRM: Salesforce and HubSpot shapes through the signed
webhook (Standard Webhooks, signed as a CRM would with the `standardwebhooks` library) and
POST/PATCH /api/opportunities/, through the admin's services; idempotent, out-of-order safe."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from apps.accounts.models import Account
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.connect.models import CrmLink, CrmStageMapping, CrmUserMapping
from apps.integrations.models import Scope
from apps.integrations.services import integration_create
from apps.integrations.signing import standard_secret
from apps.meetings.models import Opportunity, OpportunityEvent, OpportunityStage
from apps.people.models import Contact, Rep
from apps.people.tests.factories import RepFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/webhooks/crm/"


@pytest.fixture(autouse=True)
def stages():
    from apps.meetings.defaults import meetings_defaults_ensure

    meetings_defaults_ensure()


@pytest.fixture
def world(sdr, ae, team):
    account = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    account.sdr_owner = sdr
    account.save()
    other_ae = RepFactory(role=Rep.Role.AE, team=team, owner_name="Ada Other", user__email="ada@sdrops.test")
    ae.user.email = "abe@sdrops.test"
    ae.user.save()
    stage = {s.code: s for s in OpportunityStage.objects.all()}
    for system, value, code in [
        ("salesforce", "Qualification", "pipeline"), ("salesforce", "Proposal/Price Quote", "proposal"),
        ("hubspot", "appointmentscheduled", "meeting_scheduled"), ("hubspot", "presentationscheduled", "pipeline"),
        ("hubspot", "closedwon", "closed_won"), ("hubspot", "closedlost", "closed_lost"),
    ]:
        CrmStageMapping.objects.create(system=system, crm_value=value, stage=stage[code])
    CrmUserMapping.objects.create(system="salesforce", crm_user="0055e000001AbCd", rep=ae)
    CrmUserMapping.objects.create(system="salesforce", crm_user="0055e000009ZzZz", rep=other_ae)
    CrmUserMapping.objects.create(system="hubspot", crm_user="51234567", rep=ae)
    user = UserFactory(username="crm-sync", is_superuser=True)
    integration, token = integration_create(name="crm", user=user, scopes=[Scope.READ, Scope.WRITE_ACCOUNTS])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return {"account": account, "client": client, "integration": integration, "sdr": sdr, "ae": ae,
            "other_ae": other_ae}


def deliver(world, payload, *, msg_id):
    body = json.dumps(payload).encode()
    now = timezone.now()
    signature = Webhook(standard_secret(world["integration"].secret)).sign(msg_id, now, body.decode())
    return world["client"].post(URL, data=body, content_type="application/json", HTTP_WEBHOOK_ID=msg_id,
                                HTTP_WEBHOOK_TIMESTAMP=str(int(now.timestamp())), HTTP_WEBHOOK_SIGNATURE=signature)


def at(minutes_ago: int) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes_ago)).isoformat()


def salesforce(**fields):
    return {"Id": "0065e00000AbCdE", "Name": "Initech – payroll", "StageName": "Qualification",
            "OwnerId": "0055e000001AbCd", "IsClosed": False, "IsWon": False, "Amount": 24000.0,
            "CloseDate": "2027-03-31", "account_domain": "initech.com", **fields}


def test_salesforce_opportunity_lifecycle_through_the_signed_webhook(world):
    first = {"event": "opportunity.upsert", "occurred_at": at(30), "opportunity": salesforce()}
    response = deliver(world, first, msg_id="sf-1")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["result"], body["stage"], body["owner"], body["sourcing_sdr"]) == (
        "created", "pipeline", "Abe Closer", "Sam Seller")
    opportunity = Opportunity.objects.get()
    assert opportunity.crm_link.external_id == "0065e00000AbCdE"
    assert (opportunity.amount, opportunity.close_date, opportunity.account) == (
        24000, dt.date(2027, 3, 31), world["account"])
    assert opportunity.pipeline_at is not None  # an SAO from the CRM counts in the reports
    # A redelivery (same webhook-id) changes nothing and answers the same.
    again = deliver(world, first, msg_id="sf-1")
    assert again.json() == body and again["Idempotency-Replayed"] == "true"
    # Stage change, and the owner handed to another AE: the sourcing SDR stays.
    response = deliver(world, {"event": "opportunity.stage_changed", "occurred_at": at(20), "opportunity": {
        "Id": "0065e00000AbCdE", "StageName": "Proposal/Price Quote", "OwnerId": "0055e000009ZzZz"}}, msg_id="sf-2")
    assert response.status_code == 200, response.json()
    opportunity.refresh_from_db()
    assert (opportunity.stage.code, opportunity.owner, opportunity.sourcing_sdr) == (
        "proposal", world["other_ae"], world["sdr"])
    # Closed won by IsClosed/IsWon, whatever the stage is called in this org.
    response = deliver(world, {"event": "opportunity.closed", "occurred_at": at(10), "opportunity": {
        "Id": "0065e00000AbCdE", "StageName": "Closed Won", "IsClosed": True, "IsWon": True}}, msg_id="sf-3")
    assert response.status_code == 200, response.json()
    opportunity.refresh_from_db()
    assert (opportunity.stage.code, opportunity.is_open) == ("closed_won", False)
    assert Account.objects.get(pk=world["account"].pk).status == Account.Status.CUSTOMER
    kinds = list(opportunity.events.values_list("kind", "to_stage__code"))
    assert kinds == [("created", "pipeline"), ("handover", None), ("stage", "proposal"), ("stage", "closed_won")]


def test_out_of_order_deliveries_never_overwrite_newer_ones(world):
    deliver(world, {"event": "opportunity.upsert", "occurred_at": at(5), "opportunity": salesforce(
        StageName="Proposal/Price Quote")}, msg_id="new")
    late = deliver(world, {"event": "opportunity.upsert", "occurred_at": at(50), "opportunity": salesforce(
        StageName="Qualification", Amount=1)}, msg_id="old")
    assert late.status_code == 200 and late.json()["result"] == "stale"
    opportunity = Opportunity.objects.get()
    assert (opportunity.stage.code, opportunity.amount) == ("proposal", 24000)
    assert OpportunityEvent.objects.filter(kind="stage").count() == 0


def test_hubspot_deal_shape_and_closed_lost(world):
    deal = {"id": "9876543210", "properties": {
        "dealname": "Initech renewal", "dealstage": "appointmentscheduled", "hubspot_owner_id": "51234567",
        "amount": "12000.50", "closedate": "2027-01-15T00:00:00.000Z", "account_domain": "initech.com"}}
    response = deliver(world, {"event": "opportunity.upsert", "occurred_at": at(30), "opportunity": deal},
                       msg_id="hs-1")
    assert response.status_code == 200, response.json()
    opportunity = Opportunity.objects.get()
    assert (opportunity.name, opportunity.stage.code, opportunity.owner, str(opportunity.amount),
            opportunity.close_date) == ("Initech renewal", "meeting_scheduled", world["ae"], "12000.50",
                                        dt.date(2027, 1, 15))
    response = deliver(world, {"event": "opportunity.closed", "occurred_at": at(10), "opportunity": {
        "id": "9876543210", "properties": {"dealstage": "closedlost", "closed_lost_reason": "competitor",
                                           "closed_lost_details": "Went with Globex"}}}, msg_id="hs-2")
    assert response.status_code == 200, response.json()
    opportunity.refresh_from_db()
    assert (opportunity.stage.code, opportunity.closed_lost_reason, opportunity.closed_lost_details) == (
        "closed_lost", "competitor", "Went with Globex")


def test_unmapped_stage_and_owner_are_refused_with_the_crm_field_names(world):
    response = deliver(world, {"event": "opportunity.upsert", "occurred_at": at(1), "opportunity": salesforce(
        StageName="Perception Analysis")}, msg_id="bad-1")
    assert response.status_code == 400
    assert "No stage is mapped for the Salesforce stage “Perception Analysis”" in json.dumps(response.json(), ensure_ascii=False)
    response = deliver(world, {"event": "opportunity.upsert", "occurred_at": at(1), "opportunity": salesforce(
        OwnerId="005unknown")}, msg_id="bad-2")
    assert response.status_code == 400 and "No rep is mapped for the Salesforce user “005unknown”" in json.dumps(
        response.json(), ensure_ascii=False)
    assert not Opportunity.objects.exists()


def test_contacts_upsert_by_external_id_and_merge(world):
    response = deliver(world, {"event": "contact.upsert", "occurred_at": at(20), "contact": {
        "Id": "0035e00000Pet", "Email": "Peter@Initech.com", "FirstName": "Peter", "LastName": "Gibbons",
        "Title": "Engineer"}}, msg_id="c-1")
    assert response.status_code == 200, response.json()
    contact = Contact.objects.get(email="peter@initech.com")
    assert (contact.first_name, contact.title, contact.account) == ("Peter", "Engineer", world["account"])
    assert contact.crm_link.external_id == "0035e00000Pet"
    # HubSpot shape; a later change of the email follows the external id.
    deliver(world, {"event": "contact.upsert", "occurred_at": at(10), "contact": {
        "id": "0035e00000Pet", "properties": {"email": "pgibbons@initech.com", "jobtitle": "Lead engineer"}}},
        msg_id="c-2")
    contact.refresh_from_db()
    assert (contact.email, contact.title) == ("pgibbons@initech.com", "Lead engineer")
    stale = deliver(world, {"event": "contact.upsert", "occurred_at": at(15), "contact": {
        "Id": "0035e00000Pet", "Title": "Intern"}}, msg_id="c-3")
    assert stale.json()["result"] == "stale"
    merged = deliver(world, {"event": "contact.merged", "occurred_at": at(5), "merge": {
        "external_id": "0035e00000Pet", "merged_into_external_id": "0035e00000Sur"}}, msg_id="c-4")
    assert merged.status_code == 200 and merged.json()["result"] == "relinked"
    assert CrmLink.objects.get(external_id="0035e00000Sur").contact == contact
    assert CrmLink.objects.get(external_id="0035e00000Pet").merged_into == "0035e00000Sur"


def test_api_post_and_patch_opportunities(world):
    client = world["client"]
    payload = {"external_id": "OPP-1", "account_domain": "initech.com", "name": "Initech pilot",
               "stage": "pipeline", "owner_email": "abe@sdrops.test", "amount": "5000.00"}
    created = client.post("/api/opportunities/", payload, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["external_id"], body["stage"], body["owner"], body["sourcing_sdr"]) == (
        "OPP-1", "pipeline", world["ae"].pk, world["sdr"].pk)
    # The same external id again is an update, never a second opportunity.
    again = client.post("/api/opportunities/", {**payload, "name": "Initech pilot (EU)"}, format="json")
    assert again.status_code == 200 and Opportunity.objects.count() == 1
    patched = client.patch(f"/api/opportunities/{body['id']}/", {
        "stage": "Proposal/Price Quote", "system": "salesforce", "owner_crm_id": "0055e000009ZzZz"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["stage"], patched.json()["owner"]) == ("proposal", world["other_ae"].pk)
    lost = client.patch(f"/api/opportunities/{body['id']}/", {"stage": "closed_lost", "closed_lost_reason": "price"},
                        format="json")
    assert lost.status_code == 200 and lost.json()["closed_lost_reason"] == "price"
    bad = client.post("/api/opportunities/", {**payload, "external_id": "OPP-2", "stage": "nope"}, format="json")
    assert bad.status_code == 400 and "Unknown stage" in json.dumps(bad.json(), ensure_ascii=False)
    listed = client.get("/api/opportunities/").json()
    assert [o["external_id"] for o in listed["results"]] == ["OPP-1"]
    # Filters narrow the list (an unknown filter used to be ignored silently: ?account= listed everything).
    account_id = body["account"]
    assert [o["external_id"] for o in client.get(f"/api/opportunities/?account={account_id}").json()["results"]] == ["OPP-1"]
    assert client.get(f"/api/opportunities/?account={account_id + 1000}").json()["results"] == []
    assert client.get("/api/opportunities/?is_open=true").json()["results"] == []
    assert [o["stage"] for o in client.get("/api/opportunities/?stage=closed_lost").json()["results"]] == ["closed_lost"]


def test_api_refuses_roles_without_opportunity_rights(world, sdr):
    _integration, token = integration_create(name="sdr-tool", user=sdr.user, scopes=[Scope.READ, Scope.WRITE_ACCOUNTS])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/opportunities/", {"external_id": "X", "account_domain": "initech.com"}, format="json")
    assert response.status_code == 403
    assert client.get("/api/opportunities/").status_code == 200  # SDRs read the ones they sourced


def test_outbound_events_carry_the_crm_ids(world, sdr):
    from apps.integrations.models import EventType, OutboxEvent, WebhookEndpoint
    from apps.integrations.outbox import outbox_write_meeting_dispositioned
    from apps.leads.services import lead_cycle_open
    from apps.meetings.services import meeting_book

    WebhookEndpoint.objects.create(name="crm-out", url="https://crm.example.com/hook",
                                   event_types=[EventType.LEAD_ASSIGNED, EventType.MEETING_DISPOSITIONED])
    deliver(world, {"event": "contact.upsert", "occurred_at": at(20), "contact": {
        "Id": "0035e00000Pet", "Email": "peter@initech.com", "FirstName": "Peter"}}, msg_id="c-1")
    deliver(world, {"event": "opportunity.upsert", "occurred_at": at(20), "opportunity": salesforce()}, msg_id="o-1")
    contact = Contact.objects.get(email="peter@initech.com")
    lead_cycle_open(contact=contact, rep=sdr)
    lead_event = OutboxEvent.objects.get(type=EventType.LEAD_ASSIGNED)
    assert lead_event.payload["data"]["contact"]["crm_id"] == "0035e00000Pet"
    sdr.ae_partners.add(world["ae"])
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, kind="demo",
                           scheduled_at=timezone.now() + dt.timedelta(days=1))
    assert meeting.opportunity.crm_link.external_id == "0065e00000AbCdE"
    [event] = outbox_write_meeting_dispositioned(meeting)
    assert event.payload["data"]["meeting"]["opportunity_crm_id"] == "0065e00000AbCdE"
    assert event.payload["data"]["contact"]["crm_id"] == "0035e00000Pet"


def test_the_reports_read_opportunities_that_came_from_the_crm(world, client, ops):
    deliver(world, {"event": "opportunity.upsert", "occurred_at": at(30), "opportunity": salesforce()}, msg_id="r-1")
    deliver(world, {"event": "opportunity.closed", "occurred_at": at(10), "opportunity": {
        "Id": "0065e00000AbCdE", "IsClosed": True, "IsWon": True}}, msg_id="r-2")
    client.force_login(ops.user)
    body = client.get("/api/reports/conversion/").json()
    pipeline = next(t for t in body["tables"] if t["key"] == "pipeline")
    sam = next(row for row in pipeline["rows"] if row["rep"] == "Sam Seller")
    assert (sam["count"], float(sam["amount"])) == (1, 24000.0)
    cohorts = next(t for t in body["tables"] if t["key"] == "cohorts")
    [row] = [r for r in cohorts["rows"] if r["rep"] == "Sam Seller"]
    assert (row["count"], row["won"]) == (1, 1)
