"""The API, the CRM webhook and lead intake refuse a public suffix as a company's domain:
a 400 naming the field where a domain is given; a lead whose email is at a public suffix
goes unmatched (ops queue) with the reason in its routing decision."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Account, DomainAlias, OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.models import Scope
from apps.integrations.outbox import sign
from apps.leads.models import LeadCycle
from apps.people.models import Contact, Rep
from apps.people.tests.factories import RepFactory
from apps.routing.models import RoutingDecision
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db


def refusal(shown: str) -> str:
    return f"“{shown}” is a public suffix, not a company's domain (companies register names under it, like example.{shown})."


def test_accounts_api_refuses_a_public_suffix_on_create_update_alias_and_filter(make_client, ops):
    client, _ = make_client(ops)
    for domain, shown in [("kyoto.jp", "kyoto.jp"), ("https://UK.com/", "uk.com"), ("xn--55qx5d.cn", "xn--55qx5d.cn")]:
        response = client.post("/api/accounts/", {"name": "Suffix Co", "domain": domain}, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["errors"] == {"domain": [refusal(shown)]}
    account = AccountFactory(domain="acme-ok.com")
    response = client.patch(f"/api/accounts/{account.pk}/", {"domain": "github.io"}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"domain": [refusal("github.io")]}
    response = client.post(f"/api/accounts/{account.pk}/aliases/", {"domain": "test.ck"}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"domain": [refusal("test.ck")]}
    response = client.get("/api/accounts/", {"domain": "co.uk"})
    assert response.status_code == 400 and response.json()["errors"] == {"domain": [refusal("co.uk")]}
    # What the exception rules make registrable is accepted.
    response = client.post("/api/accounts/", {"name": "Cook", "domain": "https://www.ck/"}, format="json")
    assert response.status_code == 201 and response.json()["domain"] == "www.ck"
    account.refresh_from_db()
    assert account.domain == "acme-ok.com" and not DomainAlias.objects.exists()
    assert sorted(Account.objects.values_list("domain", flat=True)) == ["acme-ok.com", "www.ck"]


def test_activity_and_signal_apis_refuse_a_public_suffix_account_domain(make_client, sdr):
    client, _ = make_client(sdr)
    response = client.post("/api/activities/", {"type": "call", "account_domain": "co.uk"}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["account_domain"] == [refusal("co.uk")]
    response = client.post("/api/signals/", {"account_domain": "uk.com", "type": "demo_request"}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["account_domain"] == [refusal("uk.com")]


def deliver(client, integration, payload, *, key):
    body = json.dumps(payload).encode()
    return client.post("/api/webhooks/crm/", data=body, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key, HTTP_X_SDROPS_SIGNATURE=sign(integration.secret, body))


def test_crm_webhook_refuses_a_public_suffix_for_upsert_and_merge(make_client, superuser):
    client, integration = make_client(superuser, scopes=[Scope.READ, Scope.WRITE_ACCOUNTS])
    at = "2026-11-26T06:00:00Z"
    response = deliver(client, integration, {"event": "account.upsert", "occurred_at": at,
                                             "account": {"domain": "https://www.sub.wc.psl.hrsn.dev/", "name": "X"}},
                       key="ps-1")
    assert response.status_code == 400
    assert response.json()["errors"] == {"account.domain": [refusal("www.sub.wc.psl.hrsn.dev")]}
    response = deliver(client, integration, {"event": "account.merged", "occurred_at": at,
                                             "merge": {"domain": "acme-ok.com", "merged_into_domain": "co.uk"}},
                       key="ps-2")
    assert response.status_code == 400
    assert response.json()["errors"] == {"merge.merged_into_domain": [refusal("co.uk")]}
    assert not Account.objects.exists()


@pytest.fixture
def sdrs(team):
    return [RepFactory(role=Rep.Role.SDR, team=team, owner_name=f"SDR {i}") for i in range(2)]


def test_lead_at_a_public_suffix_goes_unmatched_with_the_reason(make_client, ops, sdrs):
    rule_with(sdrs)  # a rule that would take any new account: it must not get one
    client, _ = make_client(ops)
    response = client.post("/api/leads/", {"email": "jane@Kyoto.JP"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["assigned"], body["account"], body["rep"], body["lead_cycle"]) == (False, None, None, None)
    decision = RoutingDecision.objects.get(pk=body["decision"]["id"])
    assert decision.outcome == RoutingDecision.Outcome.UNMATCHED and decision.account is None
    assert decision.explanation == f"No usable domain: {refusal('kyoto.jp')}"
    assert decision.explanation in body["detail"]
    assert not Account.objects.exists() and not LeadCycle.objects.exists()


def test_lead_at_a_public_suffix_with_an_account_domain_is_routed_by_it(make_client, ops, sdr):
    account = AccountFactory(domain="acme-ok.com")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    client, _ = make_client(ops)
    body = client.post("/api/leads/", {"email": "jo@uk.com", "account_domain": "www.acme-ok.com"}, format="json").json()
    assert body["rep"]["id"] == sdr.pk and body["account"]["id"] == account.pk


def test_lead_api_refuses_a_public_suffix_account_domain(make_client, ops):
    client, _ = make_client(ops)
    response = client.post("/api/leads/", {"email": "jo@gmail.com", "account_domain": "c.kobe.jp"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"account_domain": [refusal("c.kobe.jp")]}
    assert not Contact.objects.exists() and not RoutingDecision.objects.exists()


def test_route_leads_sends_a_public_suffix_lead_unmatched_and_refuses_such_an_account_domain(tmp_path, sdrs):
    rule_with(sdrs)
    refused = tmp_path / "refused.csv"
    refused.write_text("email,account_domain\nann@acme-ok.com,\njo@gmail.com,公司.cn\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("route_leads", str(refused), stdout=StringIO())
    assert str(error.value) == f"Nothing was routed:\nline 3, account_domain: {refusal('公司.cn')}"
    assert not Contact.objects.exists()
    leads = tmp_path / "leads.csv"
    leads.write_text("email\nmia@github.io\n", encoding="utf-8")
    out = StringIO()
    call_command("route_leads", str(leads), stdout=out)
    decision = RoutingDecision.objects.get(contact__email="mia@github.io")
    assert decision.outcome == RoutingDecision.Outcome.UNMATCHED
    assert decision.explanation == f"No usable domain: {refusal('github.io')}"
    assert decision.explanation in out.getvalue()
    assert not Account.objects.exists()
