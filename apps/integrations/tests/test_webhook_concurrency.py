from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from apps.accounts.models import Account, OwnershipEvent
from apps.integrations.models import InboundDelivery, Scope
from apps.integrations.outbox import sign
from apps.integrations.services import integration_create
from apps.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_duplicate_deliveries_apply_once(sdr):
    crm = UserFactory(username="crm-bot", is_superuser=True)
    integration, token = integration_create(name="crm", user=crm, scopes=[Scope.WRITE_ACCOUNTS])
    body = json.dumps({"event": "account.upsert", "occurred_at": "2026-11-26T06:00:00Z",
                       "account": {"domain": "race.io", "owner_name": "Sam Seller"}}).encode()
    answers, barrier = [], threading.Barrier(4)

    def send():
        try:
            barrier.wait()
            response = Client().post(
                "/api/webhooks/crm/", data=body, content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="same-key",
                HTTP_X_SDROPS_SIGNATURE=sign(integration.secret, body),
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {200}
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    account = Account.objects.get(domain="race.io")
    assert account.owner == sdr
    assert OwnershipEvent.objects.filter(account=account).count() == 1
    assert InboundDelivery.objects.count() == 1
