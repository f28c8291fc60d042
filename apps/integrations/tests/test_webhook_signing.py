"""Webhook signatures: Standard Webhooks (id + timestamp + body) in and out, replays refused,
the deprecated body-only signature until its sunset, hostile header values never a 500."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook

from apps.accounts.models import Account, OwnershipEvent, OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.models import EventType, InboundDelivery, RecordVersion, Scope, WebhookEndpoint
from apps.integrations.outbox import sign
from apps.integrations.signing import standard_secret

pytestmark = pytest.mark.django_db
URL = "/api/webhooks/crm/"


@pytest.fixture
def crm(make_client, superuser):
    return make_client(superuser, scopes=[Scope.READ, Scope.WRITE_ACCOUNTS])


def upsert(domain="acme.io", *, at=None, owner_name="Sam Seller", record_id="0015g00000XyZ"):
    return {"event": "account.upsert", "occurred_at": at or timezone.now().isoformat(), "record_id": record_id,
            "account": {"domain": domain, "owner_name": owner_name}}


def standard_delivery(client, integration, payload=None, *, msg_id="msg_1", body=None, when=None, extra=None):
    """Signed as a CRM using the `standardwebhooks` library with the whsec_ secret would."""
    body = body if body is not None else json.dumps(payload).encode()
    when = when or timezone.now()
    signature = Webhook(standard_secret(integration.secret)).sign(msg_id, when.astimezone(dt.UTC), body.decode())
    headers = {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": str(int(when.timestamp())),
               "HTTP_WEBHOOK_SIGNATURE": signature, **(extra or {})}
    return client.post(URL, data=body, content_type="application/json", **headers)


def legacy_delivery(client, integration, payload, *, key, signature=None):
    body = json.dumps(payload).encode()
    return client.post(URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key,
                       HTTP_X_SDROPS_SIGNATURE=signature or sign(integration.secret, body))


def test_a_standard_webhooks_delivery_is_applied(crm, sdr):
    client, integration = crm
    response = standard_delivery(client, integration, upsert())
    assert response.status_code == 200, response.json()
    assert response.json()["result"] == "created"
    assert Account.objects.get(domain="acme.io").owner == sdr
    assert InboundDelivery.objects.get().idempotency_key == "msg_1"
    assert "Deprecation" not in response


def test_a_reused_webhook_id_is_not_applied_again_whatever_the_idempotency_key(crm, sdr, other_sdr):
    client, integration = crm
    payload = upsert()
    assert standard_delivery(client, integration, payload, extra={"HTTP_IDEMPOTENCY_KEY": "a"}).status_code == 200
    account = Account.objects.get(domain="acme.io")
    account_set_owner(account=account, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    events = OwnershipEvent.objects.count()
    again = standard_delivery(client, integration, payload, extra={"HTTP_IDEMPOTENCY_KEY": "b-new"})
    assert again.status_code == 200 and again["Idempotency-Replayed"] == "true"
    account.refresh_from_db()
    assert account.owner == other_sdr and OwnershipEvent.objects.count() == events


def test_a_captured_delivery_replayed_outside_the_window_is_refused(crm, sdr):
    client, integration = crm
    sent = timezone.now()
    payload = upsert(at=sent.isoformat())
    body = json.dumps(payload).encode()
    with time_machine.travel(sent + dt.timedelta(minutes=6)):
        response = standard_delivery(client, integration, body=body, when=sent, msg_id="msg_late")
    assert response.status_code == 401
    assert "more than 5 minutes from the server's clock" in response.json()["detail"]
    assert not Account.objects.exists() and not InboundDelivery.objects.exists()
    # A timestamp from the future is as suspect as an old one.
    response = standard_delivery(client, integration, body=body, when=sent + dt.timedelta(minutes=10), msg_id="m2")
    assert response.status_code == 401 and not Account.objects.exists()


def test_a_wrong_standard_signature_is_401_and_changes_nothing(make_client, superuser, crm, sdr):
    client, integration = crm
    _other_client, other = make_client(superuser, scopes=[Scope.WRITE_ACCOUNTS])
    body = json.dumps(upsert()).encode()
    when = timezone.now()
    forged = Webhook(standard_secret(other.secret)).sign("msg_1", when, body.decode())
    response = client.post(URL, data=body, content_type="application/json", HTTP_WEBHOOK_ID="msg_1",
                           HTTP_WEBHOOK_TIMESTAMP=str(int(when.timestamp())), HTTP_WEBHOOK_SIGNATURE=forged)
    assert response.status_code == 401 and "Bad webhook-signature" in response.json()["detail"]
    # The id is signed too: the right signature under another id does not pass.
    good = Webhook(standard_secret(integration.secret)).sign("msg_1", when, body.decode())
    response = client.post(URL, data=body, content_type="application/json", HTTP_WEBHOOK_ID="msg_2",
                           HTTP_WEBHOOK_TIMESTAMP=str(int(when.timestamp())), HTTP_WEBHOOK_SIGNATURE=good)
    assert response.status_code == 401
    assert not Account.objects.exists() and not InboundDelivery.objects.exists()


def test_the_same_legacy_signed_body_under_a_new_idempotency_key_is_not_applied_again(crm, sdr, other_sdr):
    client, integration = crm
    payload = upsert(at="2026-11-26T09:00:00Z")
    first = legacy_delivery(client, integration, payload, key="delivery-0001")
    assert first.status_code == 200 and first.json()["result"] == "created"
    assert first["Deprecation"] == "true" and "2027" in first["Sunset"]
    account = Account.objects.get(domain="acme.io")
    account_set_owner(account=account, to_rep=other_sdr, reason=OwnershipReason.MANUAL)
    events = OwnershipEvent.objects.count()
    replay = legacy_delivery(client, integration, payload, key="delivery-9999")
    assert replay.status_code == 200 and replay["Idempotency-Replayed"] == "true"
    assert replay.json() == first.json()
    account.refresh_from_db()
    assert account.owner == other_sdr and OwnershipEvent.objects.count() == events
    assert InboundDelivery.objects.count() == 1


def test_after_the_sunset_only_standard_webhooks_are_accepted(crm, sdr, settings):
    client, integration = crm
    settings.WEBHOOK_LEGACY_SIGNATURE_UNTIL = ""
    response = legacy_delivery(client, integration, upsert(), key="k1")
    assert response.status_code == 401 and "Missing header" in response.json()["detail"]
    settings.WEBHOOK_LEGACY_SIGNATURE_UNTIL = "2026-01-31"
    assert legacy_delivery(client, integration, upsert(), key="k2").status_code == 401
    assert not Account.objects.exists()
    assert standard_delivery(client, integration, upsert()).status_code == 200


@pytest.mark.parametrize("deliver", ["standard", "legacy"])
def test_an_occurred_at_far_in_the_future_is_refused_with_a_clear_message(crm, sdr, other_sdr, deliver):
    client, integration = crm
    future = upsert(at="2099-01-01T00:00:00Z")
    if deliver == "standard":
        response = standard_delivery(client, integration, future, msg_id="future")
    else:
        response = legacy_delivery(client, integration, future, key="future")
    assert response.status_code == 400
    [message] = response.json()["errors"]["occurred_at"]
    assert "2099-01-01T00:00:00Z is in the future" in message and "at most 5 minutes ahead" in message
    assert not Account.objects.exists() and not RecordVersion.objects.exists()
    # So the real, current update that follows is applied, not "stale".
    response = standard_delivery(client, integration, upsert(owner_name="Olga Other"), msg_id="now")
    assert response.json()["result"] == "created"
    assert Account.objects.get(domain="acme.io").owner == other_sdr
    # A little clock drift is fine.
    ahead = upsert(at=(timezone.now() + dt.timedelta(minutes=2)).isoformat(), owner_name="Sam Seller")
    assert standard_delivery(client, integration, ahead, msg_id="drift").json()["result"] == "updated"


HOSTILE_HEADER_VALUES = ["sha256=é" + "0" * 63, "sha256=" + "\u00ff" * 64, "v1,ü", "ä" * 5000, "v1", "v1,a,b",
                         "v1,!!!!", "v1," + "A" * 10_000, " ", "v1,AAAA\x00", "\u2603", "sha256=" + "0" * 64 + "é"]


@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES, ids=[f"value{i}" for i in range(len(HOSTILE_HEADER_VALUES))])
def test_hostile_signature_header_values_are_401_and_change_nothing(crm, sdr, value):
    client, integration = crm
    body = json.dumps(upsert()).encode()
    now = str(int(timezone.now().timestamp()))
    attempts = [
        {"HTTP_IDEMPOTENCY_KEY": "k", "HTTP_X_SDROPS_SIGNATURE": value},
        {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": now, "HTTP_WEBHOOK_SIGNATURE": value},
        {"HTTP_WEBHOOK_ID": value, "HTTP_WEBHOOK_TIMESTAMP": now, "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA"},
        {"HTTP_WEBHOOK_ID": "m", "HTTP_WEBHOOK_TIMESTAMP": value, "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA"},
    ]
    client.raise_request_exception = False
    for headers in attempts:
        response = client.post(URL, data=body, content_type="application/json", **headers)
        assert response.status_code == 401, (headers, response.status_code)
        assert set(response.json()) == {"detail", "errors"}
    assert not Account.objects.exists() and not InboundDelivery.objects.exists()


def test_outbound_deliveries_carry_standard_webhooks_headers_a_receiver_verifies(
    receiver, sdr, django_capture_on_commit_callbacks, settings
):
    endpoint = WebhookEndpoint.objects.create(name="CRM", url=receiver.url, event_types=[EventType.ACCOUNT_ASSIGNED],
                                              allow_private_network=True)
    account = AccountFactory(domain="acme.com")
    with django_capture_on_commit_callbacks(execute=True):
        account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    event_id = json.loads(request["body"])["event_id"]
    assert headers["webhook-id"] == event_id
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    # What a receiver does with the secret shown in the admin (whsec_…): the library verifies it.
    Webhook(standard_secret(endpoint.secret)).verify(request["body"], headers)
    # The deprecated signature is still sent until the sunset, then no longer.
    assert headers["x-sdrops-signature"] == sign(endpoint.secret, request["body"])
    settings.WEBHOOK_LEGACY_SIGNATURE_UNTIL = ""
    with django_capture_on_commit_callbacks(execute=True):
        account_set_owner(account=account, to_rep=None, reason=OwnershipReason.MANUAL)
    endpoint.event_types = [EventType.ACCOUNT_ASSIGNED, EventType.ACCOUNT_UNASSIGNED]
    endpoint.save()
    with django_capture_on_commit_callbacks(execute=True):
        account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    last = {k.lower(): v for k, v in receiver.requests[-1]["headers"].items()}
    assert "x-sdrops-signature" not in last
    Webhook(standard_secret(endpoint.secret)).verify(receiver.requests[-1]["body"], last)


def test_a_whsec_secret_a_receiver_gave_is_used_as_standard_webhooks_defines_it():
    import base64

    given = "whsec_" + base64.b64encode(b"k" * 32).decode()
    assert standard_secret(given) == given
    # Anything else is the key's UTF-8 bytes, base64-encoded.
    assert standard_secret("plain-secret") == "whsec_" + base64.b64encode(b"plain-secret").decode()
    assert standard_secret("whsec_not base64!") == "whsec_" + base64.b64encode(b"whsec_not base64!").decode()
