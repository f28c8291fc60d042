"""A schemathesis run over the OpenAPI schema: generated requests (valid and invalid)
against the real WSGI app on the test database must never get a 500, and every answer
must match the status codes and bodies the schema declares."""

from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.icps.tests.factories import SignalFactory
from apps.integrations.outbox import sign
from apps.integrations.services import integration_create
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory
from apps.routing.services import return_file
from apps.routing.tests.factories import rule_with

# The schema as the app serves it at /api/schema/ (same generator, no HTTP needed).
RAW_SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app(db):
    # Django's own test client does the same: the request must not close the test
    # transaction's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, ops, sdr):
    for n in range(3):
        account = AccountFactory(domain=f"fuzz{n}.com")
        account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
        contact = ContactFactory(account=account)
        ActivityFactory(account=account)
        # Rows for the lead, return and signal endpoints to find by id.
        lead_cycle_open(contact=contact, rep=sdr)
        return_file(account=account, rep=sdr, reason="not_interested")
        SignalFactory(account=account)
    rule_with([sdr])
    _, raw = integration_create(
        name="fuzz", user=ops.user, scopes=["read", "write_accounts", "write_leads_activities"],
        throttle_rate="100000/min",
    )
    return raw


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_matches_its_schema_and_never_500s(case, wsgi_app, token):
    response = case.call(app=wsgi_app, headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=CHECKS)


CRM_OPERATION = schema["/api/webhooks/crm/"]["POST"]


@given(case=CRM_OPERATION.as_strategy())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_signed_crm_deliveries_never_500(case, db, superuser, sdr):
    """The fuzz above is stopped by the signature check; this one signs each generated
    body so the parsing and upsert code is reached."""
    integration, raw = integration_create(
        name=f"crm-{uuid.uuid4()}", user=superuser, scopes=["write_accounts"], throttle_rate="100000/min"
    )
    body = json.dumps(case.body).encode() if not isinstance(case.body, NotSet) else b""
    response = Client().post(
        "/api/webhooks/crm/", data=body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_X_SDROPS_SIGNATURE=sign(integration.secret, body),
    )
    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"] == "application/json"
