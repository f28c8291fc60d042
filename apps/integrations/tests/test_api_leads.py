"""POST /api/leads/: contacts created or updated, then routed by the same lead_route the
admin and `route_leads` call — so the same input gets the same decision."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.models import Scope
from apps.leads.models import LeadCycle
from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.routing.models import QueueItem, RoutingDecision, Strategy
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db

DECISION_FIELDS = ["outcome", "rep_id", "rule_id", "strategy", "skipped", "explanation", "account_created"]


@pytest.fixture
def sdrs(team):
    return [RepFactory(role=Rep.Role.SDR, team=team, owner_name=f"SDR {i}") for i in range(3)]


def decision_shape(decision: RoutingDecision) -> dict:
    shape = {f: getattr(decision, f) for f in DECISION_FIELDS}
    shape["account_domain"] = decision.account.domain if decision.account else None
    return shape


def route_both_ways(make_client, ops, tmp_path, row: dict) -> tuple[dict, dict, dict]:
    """Route the same lead through the API and through `route_leads` from the same database
    state (each in a rolled-back savepoint) and return both decisions and the API body."""
    client, _ = make_client(ops)
    with transaction.atomic():
        response = client.post("/api/leads/", row, format="json")
        assert response.status_code == 201, response.json()
        by_api = decision_shape(RoutingDecision.objects.get(pk=response.json()["decision"]["id"]))
        transaction.set_rollback(True)
    csv = tmp_path / "leads.csv"
    csv.write_text("email,account_domain\n" + f"{row['email']},{row.get('account_domain', '')}\n")
    with transaction.atomic():
        call_command("route_leads", str(csv), stdout=StringIO())
        by_command = decision_shape(RoutingDecision.objects.get(contact__email=row["email"].lower()))
        transaction.set_rollback(True)
    return by_api, by_command, response.json()


def test_new_domain_routed_by_rule_same_as_route_leads(make_client, ops, sdrs, tmp_path):
    # A rep out of office is skipped by both paths, for the same reason.
    sdrs[0].out_of_office_from = "2000-01-01"
    sdrs[0].save()
    rule_with(sdrs, strategy=Strategy.ROUND_ROBIN, name="Inbound round robin")
    by_api, by_command, body = route_both_ways(make_client, ops, tmp_path, {"email": "Jane@NewCo.io", "first_name": "Jane"})
    assert by_api == by_command
    assert by_api["outcome"] == "rule" and by_api["rep_id"] == sdrs[1].pk and by_api["account_created"]
    assert body["assigned"] and body["routed"]
    assert body["rep"]["owner_name"] == "SDR 1"
    assert body["account"] == {"id": body["account"]["id"], "name": "Newco", "domain": "newco.io", "created": True}
    assert body["decision"]["rule"]["name"] == "Inbound round robin"
    assert body["decision"]["strategy"] == "round_robin"
    assert body["decision"]["skipped"] == [
        {"rep_id": sdrs[0].pk, "rep": "SDR 0", "reason": "out_of_office", "reason_label": "out of office"}
    ]
    assert "SDR 0 (out of office)" in body["decision"]["explanation"]
    assert body["lead_cycle"]["state"] == "assigned" and body["lead_cycle"]["rep"] == sdrs[1].pk


def test_known_account_goes_to_its_owner_same_as_route_leads(make_client, ops, sdr, sdrs, tmp_path):
    account = AccountFactory(domain="acme.com", name="Acme")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    rule_with(sdrs)
    by_api, by_command, body = route_both_ways(make_client, ops, tmp_path, {"email": "bo@sales.acme.com"})
    assert by_api == by_command
    assert by_api["outcome"] == "current_owner" and by_api["rep_id"] == sdr.pk
    assert body["account"]["id"] == account.pk and body["decision"]["rule"] is None
    assert body["detail"].startswith("Assigned to Sam Seller")


def test_webmail_with_account_domain_same_as_route_leads(make_client, ops, sdr, tmp_path):
    account = AccountFactory(domain="acme.com")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    by_api, by_command, _ = route_both_ways(
        make_client, ops, tmp_path, {"email": "bo@gmail.com", "account_domain": "www.acme.com"}
    )
    assert by_api == by_command and by_api["rep_id"] == sdr.pk


def test_webmail_without_account_domain_is_queued_for_ops_and_says_so(make_client, ops, sdrs, tmp_path):
    rule_with(sdrs)
    by_api, by_command, body = route_both_ways(make_client, ops, tmp_path, {"email": "someone@gmail.com"})
    assert by_api == by_command and by_api["outcome"] == "unmatched"
    assert body["assigned"] is False and body["rep"] is None and body["account"] is None
    assert body["lead_cycle"] is None
    assert "webmail" in body["detail"] and "account_domain" in body["detail"]
    assert body["decision"]["outcome_label"] == "Unmatched (ops queue)"


def test_claim_queue_rule_answers_queued(make_client, ops, sdrs):
    rule_with(sdrs, strategy=Strategy.QUEUE, name="Claim queue")
    client, _ = make_client(ops)
    body = client.post("/api/leads/", {"email": "q@queued.io"}, format="json").json()
    assert body["decision"]["outcome"] == "queued" and body["rep"] is None
    assert body["detail"].startswith("Queued")
    assert QueueItem.objects.filter(contact__email="q@queued.io", claimed_at=None).count() == 1


def test_existing_contact_is_updated_and_open_lead_not_routed_twice(make_client, ops, sdrs):
    rule_with(sdrs)
    client, _ = make_client(ops)
    first = client.post("/api/leads/", {"email": "ann@repeat.io", "title": "CTO"}, format="json")
    assert first.status_code == 201
    again = client.post("/api/leads/", {"email": "ANN@repeat.io", "title": "CEO", "first_name": "Ann"}, format="json")
    assert again.status_code == 200
    body = again.json()
    assert body["routed"] is False and body["decision"] is None
    assert body["rep"]["id"] == first.json()["rep"]["id"]
    assert "already has an open lead cycle" in body["detail"]
    contact = Contact.objects.get(email="ann@repeat.io")
    assert (contact.title, contact.first_name, contact.source) == ("CEO", "Ann", "inbound")
    assert LeadCycle.objects.filter(contact=contact).count() == 1
    assert RoutingDecision.objects.filter(contact=contact).count() == 1


def test_known_outbound_contact_keeps_its_source(make_client, ops, sdr):
    account = AccountFactory(domain="keep.io")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    ContactFactory(email="kim@keep.io", account=account, source=Contact.Source.OUTBOUND)
    client, _ = make_client(ops)
    response = client.post("/api/leads/", {"email": "kim@keep.io"}, format="json")
    assert response.status_code == 201 and response.json()["contact"]["created"] is False
    assert Contact.objects.get(email="kim@keep.io").source == "outbound"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b.io", "lead_type": "cold"}, "lead_type"),
        ({"email": "a@b.io", "source": "carrier pigeon"}, "source"),
        ({"email": "a@b.io", "account_domain": "not a domain"}, "account_domain"),
        ({"email": "a@b.io", "first_name": "x" * 101}, "first_name"),
    ],
)
def test_bad_input_is_400_with_the_field_and_writes_nothing(make_client, ops, payload, field):
    client, _ = make_client(ops)
    response = client.post("/api/leads/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Contact.objects.exists() and not RoutingDecision.objects.exists()


def test_scope_and_role_are_required(make_client, sdr, ae):
    client, _ = make_client(sdr, scopes=[Scope.READ])
    response = client.post("/api/leads/", {"email": "x@y.io"}, format="json")
    assert response.status_code == 403 and "write_leads_activities" in response.json()["detail"]
    # An AE may not add contacts in the admin, so not through the API either.
    client, _ = make_client(ae)
    assert client.post("/api/leads/", {"email": "x@y.io"}, format="json").status_code == 403
    assert not Contact.objects.exists()


def test_api_routes_like_a_contact_added_in_the_admin(make_client, client, ops, sdrs):
    """The contact admin's add form routes a new inbound contact through the same service."""
    sdrs[2].active = False
    sdrs[2].save()
    rule_with(sdrs, strategy=Strategy.CAPACITY_AWARE, name="Capacity")
    api, _ = make_client(ops)
    with transaction.atomic():
        response = api.post("/api/leads/", {"email": "max@admin-vs-api.io", "first_name": "Max"}, format="json")
        assert response.status_code == 201
        by_api = decision_shape(RoutingDecision.objects.get(pk=response.json()["decision"]["id"]))
        transaction.set_rollback(True)
    client.force_login(ops.user)
    with transaction.atomic():
        client.post(reverse("admin:people_contact_add"), {
            "first_name": "Max", "email": "max@admin-vs-api.io", "buying_role": "other", "source": "inbound",
            "account": "",
        })
        by_admin = decision_shape(RoutingDecision.objects.get(contact__email="max@admin-vs-api.io"))
        transaction.set_rollback(True)
    assert by_api == by_admin
    assert by_api["outcome"] == "rule" and by_api["strategy"] == "capacity_aware"
    assert by_api["skipped"] == [{"rep_id": sdrs[2].pk, "rep": "SDR 2", "reason": "inactive"}]


@pytest.mark.parametrize("existing", [5, 60])
def test_lead_post_runs_a_fixed_number_of_queries(make_client, ops, sdrs, existing):
    """Whatever the size of the books: contact upsert, routing (a new account, scored), the
    lead cycle, the outbox checks and the answer. Savepoints of the nested services aside."""
    rule_with(sdrs)
    for i in range(existing):
        account_set_owner(account=AccountFactory(domain=f"book{i}.io"), to_rep=sdrs[i % 3],
                          reason=OwnershipReason.MANUAL)
    client, _ = make_client(ops)
    client.post("/api/leads/", {"email": "warm@up.io"}, format="json")  # authentication's last-used stamp
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/leads/", {"email": "x@brand-new.io", "first_name": "X"}, format="json")
    assert response.status_code == 201 and response.json()["assigned"]
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 42, "\n".join(s[:100] for s in statements)


def test_routing_decisions_are_listed_in_scope(make_client, ops, sdr, other_sdr, ae):
    mine = AccountFactory(domain="mine.io")
    account_set_owner(account=mine, to_rep=sdr, reason=OwnershipReason.MANUAL)
    theirs = AccountFactory(domain="theirs.io")
    account_set_owner(account=theirs, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    crm, _ = make_client(ops)
    for email in ("a@mine.io", "b@theirs.io", "c@gmail.com"):
        assert crm.post("/api/leads/", {"email": email}, format="json").status_code == 201
    assert len(crm.get("/api/leads/").json()["results"]) == 3
    unmatched = crm.get("/api/leads/", {"outcome": "unmatched"}).json()["results"]
    assert [d["contact_email"] for d in unmatched] == ["c@gmail.com"]
    own = make_client(sdr)[0].get("/api/leads/").json()["results"]
    assert [(d["contact_email"], d["rep"], d["outcome"]) for d in own] == [("a@mine.io", sdr.pk, "current_owner")]
    assert make_client(ae)[0].get("/api/leads/").status_code == 403
