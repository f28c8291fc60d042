from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Account, OwnershipEvent, OwnershipReason
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.models import InboundDelivery, MergeNotice, Scope
from apps.integrations.outbox import sign

pytestmark = pytest.mark.django_db
URL = "/api/webhooks/crm/"


@pytest.fixture
def crm(make_client, superuser):
    client, integration = make_client(superuser, scopes=[Scope.READ, Scope.WRITE_ACCOUNTS])
    return client, integration


def deliver(client, integration, payload, *, key, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"HTTP_IDEMPOTENCY_KEY": key}
    if signature is not False:
        headers["HTTP_X_SDROPS_SIGNATURE"] = signature or sign(integration.secret, body)
    return client.post(URL, data=body, content_type="application/json", **headers)


def upsert(domain, *, at, owner_name=..., record_id=None, **fields):
    account = {"domain": domain, **fields}
    if owner_name is not ...:
        account["owner_name"] = owner_name
    payload = {"event": "account.upsert", "occurred_at": at, "account": account}
    if record_id:
        payload["record_id"] = record_id
    return payload


def test_signed_upsert_creates_account_and_sets_owner_by_name(crm, sdr):
    client, integration = crm
    response = deliver(
        client, integration,
        upsert("https://www.Acme.io/", at="2026-11-26T06:00:00Z", owner_name="  sam   SELLER ", name="Acme",
               segment="enterprise"),
        key="d-1",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["result"] == "created"
    account = Account.objects.get(domain="acme.io")
    assert (account.name, account.segment, account.owner) == ("Acme", "enterprise", sdr)
    event = OwnershipEvent.objects.get(account=account)
    assert event.reason == OwnershipReason.API and event.actor == integration.user


def test_bad_or_missing_signature_is_401_and_changes_nothing(crm, sdr):
    client, integration = crm
    payload = upsert("acme.io", at="2026-11-26T06:00:00Z", owner_name="Sam Seller")
    assert deliver(client, integration, payload, key="k1", signature="sha256=" + "0" * 64).status_code == 401
    assert deliver(client, integration, payload, key="k1", signature=False).status_code == 401
    tampered = json.dumps(payload).encode()
    good_sig = sign(integration.secret, tampered)
    assert deliver(client, integration, None, key="k1", raw=tampered + b" ", signature=good_sig).status_code == 401
    assert not Account.objects.exists() and not InboundDelivery.objects.exists()
    # The key was not consumed: the correctly signed delivery still goes through.
    assert deliver(client, integration, payload, key="k1").json()["result"] == "created"


def test_replay_returns_first_answer_and_changes_nothing(crm, sdr, other_sdr):
    client, integration = crm
    payload = upsert("acme.io", at="2026-11-26T06:00:00Z", owner_name="Sam Seller")
    first = deliver(client, integration, payload, key="same")
    account = Account.objects.get(domain="acme.io")
    # Someone moves the account in the portal; a replay of the old delivery must not undo it.
    from apps.accounts.services import account_set_owner

    account_set_owner(account=account, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    again = deliver(client, integration, payload, key="same")
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    account.refresh_from_db()
    assert account.owner == other_sdr
    assert OwnershipEvent.objects.filter(account=account).count() == 2
    conflict = deliver(client, integration, upsert("other.io", at="2026-11-26T06:00:00Z"), key="same")
    assert conflict.status_code == 409


def test_replay_of_a_rejected_delivery_returns_the_same_error(crm):
    client, integration = crm
    payload = upsert("acme.io", at="2026-11-26T06:00:00Z", owner_name="Nobody Known")
    first = deliver(client, integration, payload, key="bad-1")
    assert first.status_code == 400 and "account.owner_name" in first.json()["errors"]
    assert deliver(client, integration, payload, key="bad-1").json() == first.json()
    assert not Account.objects.exists()


def test_out_of_order_older_never_overwrites_newer(crm, sdr, other_sdr):
    client, integration = crm
    newer = upsert("acme.io", at="2026-11-26T07:00:00Z", owner_name="Olga Other", industry="Fintech",
                   record_id="crm-42")
    older = upsert("acme.io", at="2026-11-26T06:00:00+00:00", owner_name="Sam Seller", industry="Retail",
                   record_id="crm-42")
    assert deliver(client, integration, newer, key="n").json()["result"] == "created"
    late = deliver(client, integration, older, key="o")
    assert late.status_code == 200 and late.json()["result"] == "stale"
    account = Account.objects.get(domain="acme.io")
    assert (account.owner, account.industry) == (other_sdr, "Fintech")
    newest = upsert("acme.io", at="2026-11-26T08:00:00Z", owner_name=None, record_id="crm-42")
    assert deliver(client, integration, newest, key="x").json()["result"] == "updated"
    account.refresh_from_db()
    assert account.owner is None


def test_upsert_updates_existing_account_by_alias_domain(crm):
    client, integration = crm
    account = AccountFactory(domain="acme.com", name="Acme")
    from apps.accounts.services import domain_alias_add

    domain_alias_add(account=account, domain="acme.co.uk")
    response = deliver(client, integration, upsert("acme.co.uk", at="2026-11-26T06:00:00Z", employees=900), key="a")
    assert response.json()["result"] == "updated" and response.json()["account_id"] == account.pk
    account.refresh_from_db()
    assert account.employees == 900 and Account.objects.count() == 1


def test_validation_errors_name_the_field(crm):
    client, integration = crm
    cases = [
        ({"event": "account.deleted", "occurred_at": "2026-11-26T06:00:00Z"}, "event"),
        ({"event": "account.upsert", "occurred_at": "yesterday", "account": {"domain": "a.com"}}, "occurred_at"),
        ({"event": "account.upsert", "occurred_at": "2026-11-26T06:00:00", "account": {"domain": "a.com"}},
         "occurred_at"),
        ({"event": "account.upsert", "occurred_at": "2026-11-26T06:00:00Z"}, "account"),
        (upsert("gmail.com", at="2026-11-26T06:00:00Z"), "account.domain"),
        (upsert("not a domain", at="2026-11-26T06:00:00Z"), "account.domain"),
        (upsert("a.com", at="2026-11-26T06:00:00Z", employees="many"), "account.employees"),
        (upsert("a.com", at="2026-11-26T06:00:00Z", segment="huge"), "account.segment"),
        ([1, 2], "non_field_errors"),
    ]
    for n, (payload, field) in enumerate(cases):
        response = deliver(client, integration, payload, key=f"v{n}")
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json()["errors"], (payload, response.json())
    not_json = deliver(client, integration, None, key="nj", raw=b"{oops")
    assert not_json.status_code == 400
    assert deliver(client, integration, upsert("a.com", at="2026-11-26T06:00:00Z"), key="").status_code == 400
    assert not Account.objects.exists()


def test_merge_notice_is_recorded_for_ops_not_applied(crm):
    client, integration = crm
    old = AccountFactory(domain="old.com")
    survivor = AccountFactory(domain="new.com")
    payload = {"event": "account.merged", "occurred_at": "2026-11-26T06:00:00Z",
               "merge": {"domain": "old.com", "merged_into_domain": "www.new.com"}}
    response = deliver(client, integration, payload, key="m1")
    assert response.status_code == 200 and response.json()["result"] == "merge_recorded"
    notice = MergeNotice.objects.get()
    assert (notice.account, notice.merged_into, notice.resolved) == (old, survivor, False)
    assert Account.objects.count() == 2


def test_scope_and_token_are_required(make_client, superuser, sdr):
    client, integration = make_client(superuser, scopes=[Scope.READ])
    payload = upsert("acme.io", at="2026-11-26T06:00:00Z")
    assert deliver(client, integration, payload, key="s").status_code == 403
    session = APIClient()
    session.force_login(superuser)
    assert session.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="s").status_code == 401
    # An integration acting as an SDR may not move owners even with the scope.
    sdr_client, sdr_integration = make_client(sdr, scopes=[Scope.WRITE_ACCOUNTS])
    response = deliver(sdr_client, sdr_integration, upsert("acme.io", at="2026-11-26T06:00:00Z", owner_name="Sam Seller"),
                       key="s2")
    assert response.status_code == 400 and "account.owner_name" in response.json()["errors"]
    assert not Account.objects.exists()


def test_sdr_integration_cannot_create_or_touch_other_books(make_client, sdr, other_sdr):
    from apps.accounts.services import account_set_owner

    theirs = AccountFactory(domain="theirs.com", industry="Retail")
    account_set_owner(account=theirs, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    client, integration = make_client(sdr, scopes=[Scope.WRITE_ACCOUNTS])
    created = deliver(client, integration, upsert("new.io", at="2026-11-26T06:00:00Z"), key="c")
    assert created.status_code == 400 and "may not create" in created.json()["errors"]["account.domain"][0]
    touched = deliver(client, integration, upsert("theirs.com", at="2026-11-26T06:00:00Z", industry="X"), key="t")
    # Another book's account is answered exactly as a domain nobody holds (issue 14).
    assert touched.status_code == 400
    assert touched.json()["errors"] == {
        field: [m.replace("new.io", "theirs.com") for m in messages]
        for field, messages in created.json()["errors"].items()
    }
    theirs.refresh_from_db()
    assert theirs.industry == "Retail" and Account.objects.count() == 1


def test_hostile_values_are_400_not_500(crm):
    client, integration = crm
    raw = (
        b'{"event": "account.upsert", "occurred_at": "3604-10-27T07:16:27-18:23",'
        b' "account": {"domain": "\\ud800bad.com", "employees": 1e400}}'
    )
    response = deliver(client, integration, None, key="h1", raw=raw)
    assert response.status_code == 400
    assert deliver(client, integration, None, key="h1", raw=raw).json() == response.json()
