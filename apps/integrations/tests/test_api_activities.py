from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import Activity, OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.api_support import MAX_BULK_ITEMS
from apps.integrations.models import Scope
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(sdr, other_sdr):
    mine = AccountFactory(name="Mine Inc", domain="mine.com")
    theirs = AccountFactory(name="Theirs Ltd", domain="theirs.com")
    account_set_owner(account=mine, to_rep=sdr, reason=OwnershipReason.MANUAL)
    account_set_owner(account=theirs, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    contact = ContactFactory(account=mine, email="ann@mine.com")
    ContactFactory(account=theirs, email="bob@theirs.com")
    return mine, theirs, contact


def test_sdr_logs_an_automated_email_by_contact_email(make_client, sdr, setup):
    mine, _, contact = setup
    client, _ = make_client(sdr)
    response = client.post(
        "/api/activities/",
        {"type": "email", "contact_email": "ANN@mine.com", "automated": True, "subject": "Step 1",
         "occurred_at": "2026-11-20T10:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    activity = Activity.objects.get(pk=response.json()["id"])
    assert (activity.account, activity.contact, activity.rep, activity.automated) == (mine, contact, sdr, True)
    assert activity.occurred_at == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def test_single_activity_validation_errors(make_client, sdr, other_sdr, setup):
    mine, theirs, contact = setup
    client, _ = make_client(sdr)
    cases = [
        ({"type": "fax", "account": mine.pk}, "type"),
        ({"type": "call"}, "account"),
        ({"type": "call", "account": theirs.pk}, "account"),
        ({"type": "call", "account_domain": "theirs.com"}, "account_domain"),
        ({"type": "call", "account_domain": "not a domain"}, "account_domain"),
        ({"type": "call", "account": mine.pk, "rep": other_sdr.pk}, "rep"),
        ({"type": "call", "account": mine.pk, "contact_email": "bob@theirs.com"}, "contact_email"),
        ({"type": "call", "account": mine.pk, "occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "call", "account": mine.pk, "subject": "x" * 300}, "subject"),
    ]
    for payload, field in cases:
        response = client.post("/api/activities/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json()["errors"], (payload, response.json())
    assert not Activity.objects.exists()


def test_activities_need_the_write_scope(make_client, sdr, setup):
    client, _ = make_client(sdr, scopes=[Scope.READ])
    response = client.post("/api/activities/", {"type": "call", "account": setup[0].pk}, format="json")
    assert response.status_code == 403 and "write_leads_activities" in response.json()["detail"]


def test_bulk_reports_errors_per_item_and_writes_the_rest(make_client, sdr, setup, django_assert_max_num_queries):
    mine, theirs, contact = setup
    client, _ = make_client(sdr)
    items = [{"type": "call", "account": mine.pk, "subject": f"call {n}"} for n in range(40)]
    items[3] = {"type": "call", "account": theirs.pk}  # another SDR's account
    items[7] = {"type": "nope", "account": mine.pk}
    items[11] = "not an object"
    items[12] = {"type": "email", "account_domain": "www.mine.com", "contact": contact.pk, "automated": True}
    with django_assert_max_num_queries(3 * 40 + 25):
        response = client.post("/api/activities/bulk/", {"activities": items}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["failed"]) == (37, 3)
    failed = {r["index"]: r["errors"] for r in body["results"] if r["errors"]}
    assert set(failed) == {3, 7, 11}
    assert "account" in failed[3] and "type" in failed[7] and "non_field_errors" in failed[11]
    created_ids = [r["id"] for r in body["results"] if r["id"]]
    assert Activity.objects.filter(pk__in=created_ids, account=mine).count() == 37
    assert Activity.objects.get(pk=body["results"][12]["id"]).contact == contact
    assert not Activity.objects.filter(account=theirs).exists()


def test_bulk_limits(make_client, ops, setup):
    client, _ = make_client(ops)
    too_many = [{"type": "call", "account": setup[0].pk}] * (MAX_BULK_ITEMS + 1)
    response = client.post("/api/activities/bulk/", {"activities": too_many}, format="json")
    assert response.status_code == 400 and "activities" in response.json()["errors"]
    assert client.post("/api/activities/bulk/", {"activities": []}, format="json").status_code == 400
    assert client.post("/api/activities/bulk/", {"activities": "x"}, format="json").status_code == 400
    assert not Activity.objects.exists()


def test_bulk_of_a_thousand_is_accepted(make_client, ops, setup):
    client, _ = make_client(ops)
    items = [{"type": "call", "account_domain": "mine.com", "automated": True}] * MAX_BULK_ITEMS
    body = client.post("/api/activities/bulk/", {"activities": items}, format="json").json()
    assert body["created"] == MAX_BULK_ITEMS and Activity.objects.count() == MAX_BULK_ITEMS


def test_activity_list_is_scoped(make_client, sdr, ops, setup):
    mine, theirs, _ = setup
    ops_client, _ = make_client(ops)
    ops_client.post("/api/activities/", {"type": "call", "account": mine.pk}, format="json")
    ops_client.post("/api/activities/", {"type": "call", "account": theirs.pk}, format="json")
    sdr_client, _ = make_client(sdr)
    rows = sdr_client.get("/api/activities/").json()["results"]
    assert [row["account"] for row in rows] == [mine.pk]


def test_api_touch_works_the_lead_but_automated_never_does(make_client, sdr, setup):
    from apps.leads.models import LeadCycle
    from apps.leads.services import lead_cycle_open

    mine, _, contact = setup
    cycle = lead_cycle_open(contact=contact, rep=sdr)
    client, _ = make_client(sdr)
    automated = client.post("/api/activities/", {"type": "email", "contact": contact.pk, "automated": True},
                            format="json")
    assert automated.status_code == 201
    cycle.refresh_from_db()
    assert cycle.state == LeadCycle.State.ASSIGNED and cycle.first_touch_at is None
    real = client.post("/api/activities/", {"type": "call", "contact_email": contact.email, "outcome": "positive"},
                       format="json")
    assert real.status_code == 201, real.json()
    cycle.refresh_from_db()
    assert cycle.state == LeadCycle.State.WORKING and cycle.first_touch_at is not None
    future = client.post("/api/activities/", {"type": "call", "contact": contact.pk, "occurred_at": "2099-01-01T00:00:00Z"},
                         format="json")
    assert future.status_code == 400 and "occurred_at" in future.json()["errors"]
    no_contact = client.post("/api/activities/", {"type": "call", "account": mine.pk, "outcome": "positive"},
                             format="json")
    assert no_contact.status_code == 400 and "outcome" in no_contact.json()["errors"]
