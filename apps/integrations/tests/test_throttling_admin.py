from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from apps.integrations.models import Integration, token_hash

pytestmark = pytest.mark.django_db


def test_integration_rate_limit_gives_a_clear_429(make_client, ops):
    client, integration = make_client(ops, rate="3/min")
    other, _ = make_client(ops, rate="3/min")
    for _ in range(3):
        assert client.get("/api/reps/").status_code == 200
    response = client.get("/api/reps/")
    assert response.status_code == 429
    body = response.json()
    assert body["detail"].startswith("Rate limit exceeded") and 0 < body["retry_after"] <= 60
    assert int(response["Retry-After"]) == body["retry_after"]
    # Limits are per integration: another token of the same user is unaffected.
    assert other.get("/api/reps/").status_code == 200


def test_bad_rate_is_refused(ops):
    from django.core.exceptions import ValidationError

    from apps.integrations.services import integration_create

    with pytest.raises(ValidationError) as error:
        integration_create(name="x", user=ops.user, scopes=["read"], throttle_rate="lots")
    assert "throttle_rate" in error.value.message_dict


def test_create_integration_command_prints_a_working_token(ops, capsys):
    call_command("create_integration", "Outreach", "--user", ops.user.username, "--scopes", "read,write_leads_activities")
    out = capsys.readouterr().out
    token = out.split("Token (shown once): ")[1].split()[0]
    integration = Integration.objects.get(name="Outreach")
    assert integration.token_hash == token_hash(token) and token not in integration.token_hash
    assert integration.scopes == ["read", "write_leads_activities"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/accounts/").status_code == 200


def test_create_integration_command_service_user_and_errors(db, capsys):
    call_command("create_integration", "CRM", "--user", "crm-bot", "--service-user", "--scopes", "read,write_accounts")
    integration = Integration.objects.get(name="CRM")
    assert integration.user.is_superuser and not integration.user.has_usable_password()
    with pytest.raises(CommandError, match="No user"):
        call_command("create_integration", "X", "--user", "ghost")
    with pytest.raises(CommandError, match="scope"):
        call_command("create_integration", "Y", "--user", "crm-bot", "--scopes", "read,admin")


def test_admin_creates_integration_and_shows_token_once(ops, client):
    client.force_login(ops.user)
    response = client.post(
        reverse("admin:integrations_integration_add"),
        {"name": "Salesloft", "user": ops.user.pk, "scopes": ["read"], "throttle_rate": "60/min", "active": "on",
         "secret": "shh"},
        follow=True,
    )
    assert response.status_code == 200
    message = next(str(m) for m in response.context["messages"] if "Token" in str(m))
    token = message.rsplit(" ", 1)[1]
    assert Integration.objects.get(name="Salesloft").token_hash == token_hash(token)
    page = client.get(reverse("admin:integrations_integration_change", args=[Integration.objects.get().pk]))
    assert token.encode() not in page.content


def test_sdr_cannot_reach_integration_admin(sdr, client):
    client.force_login(sdr.user)
    assert client.get(reverse("admin:integrations_integration_changelist")).status_code == 403
