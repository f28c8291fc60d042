from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Account, OwnershipEvent, OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory
from apps.integrations.models import Scope
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(sdr, other_sdr):
    mine = AccountFactory(name="Mine Inc", domain="mine.com", segment="smb")
    theirs = AccountFactory(name="Theirs Ltd", domain="theirs.com", segment="enterprise")
    pool = AccountFactory(name="Pool Co", domain="pool.com")
    account_set_owner(account=mine, to_rep=sdr, reason=OwnershipReason.MANUAL)
    account_set_owner(account=theirs, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    return mine, theirs, pool


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_sdr_token_sees_only_their_book(make_client, sdr, books):
    mine, theirs, pool = books
    client, _ = make_client(sdr)
    response = client.get("/api/accounts/")
    assert response.status_code == 200
    assert ids(response) == {mine.pk}
    assert client.get(f"/api/accounts/{mine.pk}/").json()["owner_name"] == "Sam Seller"
    # Another SDR's account by id: not found, not forbidden (its existence is not revealed).
    missing = client.get(f"/api/accounts/{theirs.pk}/")
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail", "errors"}


def test_manager_sees_team_books_ops_sees_all(make_client, manager, ops, books):
    mine, theirs, pool = books
    assert ids(make_client(manager)[0].get("/api/accounts/")) == {mine.pk}
    assert ids(make_client(ops)[0].get("/api/accounts/")) == {mine.pk, theirs.pk, pool.pk}


def test_filters_by_domain_alias_owner_segment_and_pool(make_client, ops, sdr, books):
    mine, theirs, pool = books
    DomainAliasFactory(account=theirs, domain="theirs.co.uk")
    client, _ = make_client(ops)
    assert ids(client.get("/api/accounts/", {"domain": "https://www.Theirs.co.uk/about"})) == {theirs.pk}
    assert ids(client.get("/api/accounts/", {"owner": sdr.pk})) == {mine.pk}
    assert ids(client.get("/api/accounts/", {"segment": "enterprise"})) == {theirs.pk}
    assert ids(client.get("/api/accounts/", {"pool": "true"})) == {pool.pk}
    bad = client.get("/api/accounts/", {"segment": "galactic"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"segment"}
    bad = client.get("/api/accounts/", {"domain": "not a domain"})
    assert bad.status_code == 400 and "not a domain" in bad.json()["errors"]["domain"][0]


def test_scope_read_is_required(make_client, ops, books):
    client, _ = make_client(ops, scopes=[Scope.WRITE_ACCOUNTS])
    response = client.get("/api/accounts/")
    assert response.status_code == 403
    assert "read" in response.json()["detail"]


def test_unauthenticated_and_bad_token(books):
    client = APIClient()
    assert client.get("/api/accounts/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer sdr_nope")
    response = client.get("/api/accounts/")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_deactivated_integration_is_refused(make_client, ops, books):
    client, integration = make_client(ops)
    integration.active = False
    integration.save()
    assert client.get("/api/accounts/").status_code == 401


def test_session_login_works_with_role_scoping(sdr, books):
    client = APIClient()
    client.force_login(sdr.user)
    assert ids(client.get("/api/accounts/")) == {books[0].pk}


def test_cursor_pagination_walks_every_row_once(make_client, ops):
    AccountFactory.create_batch(7)
    client, _ = make_client(ops)
    seen, url = [], "/api/accounts/?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 7
    bad = client.get("/api/accounts/", {"cursor": "garbage"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]


def test_list_runs_a_fixed_number_of_queries(make_client, ops, django_assert_max_num_queries):
    for account in AccountFactory.create_batch(30):
        DomainAliasFactory(account=account)
    client, _ = make_client(ops)
    # Auth, permissions, the throttle counter (database cache), then 3 for the page.
    with django_assert_max_num_queries(14):
        assert len(client.get("/api/accounts/").json()["results"]) == 30


def test_ops_creates_account_with_owner_through_ownership_service(make_client, ops, sdr):
    client, integration = make_client(ops)
    response = client.post(
        "/api/accounts/",
        {"name": "Acme", "domain": "https://WWW.Acme.com/pricing", "segment": "mid_market", "owner": sdr.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["domain"] == "acme.com" and body["owner"] == sdr.pk
    event = OwnershipEvent.objects.get(account_id=body["id"])
    assert event.reason == OwnershipReason.API and event.actor == ops.user and event.to_rep == sdr


def test_an_account_created_with_only_a_website_gets_its_domain(make_client, ops):
    client, _ = make_client(ops)
    response = client.post("/api/accounts/", {"name": "Acme", "website": "https://www.acme.com/"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["domain"] == "acme.com"
    response = client.post("/api/accounts/", {"name": "Mail", "website": "https://outlook.com"}, format="json")
    assert response.status_code == 400 and "webmail" in response.json()["errors"]["website"][0]
    assert Account.objects.count() == 1


def test_create_validation_errors_are_field_messages(make_client, ops):
    AccountFactory(domain="taken.com", name="Taken")
    client, _ = make_client(ops)
    cases = [
        ({"domain": "x.com"}, "name"),
        ({"name": "A", "domain": "gmail.com"}, "domain"),
        ({"name": "A", "domain": "taken.com"}, "domain"),
        ({"name": "A", "employees": -1}, "employees"),
        ({"name": "A", "segment": "huge"}, "segment"),
        ({"name": "A", "owner": 999999}, "owner"),
        ({"name": "A\x00"}, "name"),
    ]
    for payload, field in cases:
        response = client.post("/api/accounts/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json()["errors"], (payload, response.json())
    assert "already belongs" in client.post(
        "/api/accounts/", {"name": "A", "domain": "taken.com"}, format="json"
    ).json()["errors"]["domain"][0]
    assert Account.objects.count() == 1


def test_sdr_may_not_create_accounts_or_change_owners(make_client, sdr, other_sdr, books):
    mine, _, _ = books
    client, _ = make_client(sdr)
    assert client.post("/api/accounts/", {"name": "Nope"}, format="json").status_code == 403
    response = client.patch(f"/api/accounts/{mine.pk}/", {"owner": other_sdr.pk}, format="json")
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.owner == sdr
    # Plain fields of their own account are theirs to fix.
    response = client.patch(f"/api/accounts/{mine.pk}/", {"industry": "Robotics"}, format="json")
    assert response.status_code == 200 and response.json()["industry"] == "Robotics"


def test_ops_moves_owner_with_patch(make_client, ops, other_sdr, books):
    mine, _, _ = books
    client, _ = make_client(ops)
    response = client.patch(f"/api/accounts/{mine.pk}/", {"owner": other_sdr.pk, "status": "active"}, format="json")
    assert response.status_code == 200
    assert response.json()["owner"] == other_sdr.pk and response.json()["status"] == "active"
    assert OwnershipEvent.objects.filter(account=mine, reason=OwnershipReason.API, to_rep=other_sdr).count() == 1
    assert client.patch(f"/api/accounts/{mine.pk}/", {"owner": None}, format="json").json()["owner"] is None


def test_write_scope_is_required_for_changes(make_client, ops, books):
    client, _ = make_client(ops, scopes=[Scope.READ, Scope.WRITE_LEADS_ACTIVITIES])
    assert client.post("/api/accounts/", {"name": "X"}, format="json").status_code == 403
    assert client.patch(f"/api/accounts/{books[0].pk}/", {"name": "X"}, format="json").status_code == 403


def test_alias_added_through_the_service(make_client, ops, books):
    mine, theirs, _ = books
    client, _ = make_client(ops)
    response = client.post(f"/api/accounts/{mine.pk}/aliases/", {"domain": "Mine.co.uk"}, format="json")
    assert response.status_code == 201 and response.json()["domain"] == "mine.co.uk"
    response = client.post(f"/api/accounts/{mine.pk}/aliases/", {"domain": "theirs.com"}, format="json")
    assert response.status_code == 400 and "already belongs" in response.json()["errors"]["domain"][0]


def test_malformed_and_oversized_bodies_are_4xx(make_client, ops, settings):
    client, _ = make_client(ops)
    bad_json = client.post("/api/accounts/", data="{nope", content_type="application/json")
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["detail"]
    nan = client.post("/api/accounts/", data='{"name": "A", "employees": NaN}', content_type="application/json")
    assert nan.status_code == 400
    not_json = client.post("/api/accounts/", data="name=A", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = client.post("/api/accounts/", data=json.dumps({"name": "A" * 2000}), content_type="application/json")
    assert big.status_code == 413


def test_contacts_and_reps_are_scoped(make_client, sdr, other_sdr, books):
    mine, theirs, _ = books
    visible = ContactFactory(account=mine, email="ann@mine.com")
    ContactFactory(account=theirs, email="bob@theirs.com")
    client, _ = make_client(sdr)
    assert ids(client.get("/api/contacts/")) == {visible.pk}
    assert ids(client.get("/api/contacts/", {"email": "ANN@mine.com"})) == {visible.pk}
    assert ids(client.get("/api/reps/")) == {sdr.pk}
    assert client.get(f"/api/reps/{other_sdr.pk}/").status_code == 404


def test_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/accounts/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"drf_spectacular_sidecar/swagger-ui-dist" in docs.content
    assert b"cdn" not in docs.content.lower()
