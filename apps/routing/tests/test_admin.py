import re

import pytest
from django.urls import reverse

from apps.accounts.models import Account
from apps.accounts.services import account_set_owner
from apps.people.tests.factories import ContactFactory
from apps.routing.models import (
    Distribution,
    QueueItem,
    ReturnRequest,
    RoutingRule,
    RulesChange,
)
from apps.routing.selectors import roe_get
from apps.routing.services import lead_route, return_file
from apps.routing.tests.factories import ScoredAccountFactory, rule_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client, ops):
    client.force_login(ops.user)
    return client


def test_routing_admin_pages_render(ops_client, sdr):
    rule = rule_with([sdr])
    account = ScoredAccountFactory()
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    return_file(account=account, rep=sdr, reason="bad_data")
    lead_route(contact=ContactFactory(email="x@gmail.com", account=None))
    for name in ["rulesofengagement", "capacityrule", "repcapacityoverride", "ruleschange", "routingrule",
                 "routingdecision", "queueitem", "distribution", "returnrequest", "accountrest"]:
        assert ops_client.get(reverse(f"admin:routing_{name}_changelist"), follow=True).status_code == 200, name
    assert ops_client.get(reverse("admin:routing_routingrule_change", args=[rule.pk])).status_code == 200
    roe = roe_get()
    assert ops_client.get(reverse("admin:routing_rulesofengagement_change", args=[roe.pk])).status_code == 200
    assert ops_client.get(reverse("admin:routing_distribution_new")).status_code == 200


def test_rules_of_engagement_change_is_recorded_and_validated(ops_client, ops):
    roe = roe_get()
    url = reverse("admin:routing_rulesofengagement_change", args=[roe.pk])
    data = {"inactivity_days": 100, "rest_days": 14, "rest_days_not_interested": 90, "rest_days_duplicate": "",
            "meaningful_activity_types": ["call", "email"], "exempt_open_opportunity": "on",
            "exempt_meeting_scheduled": "on", "exempt_pending_return": "on",
            "starter_accounts_per_ae": 4, "starter_accounts_by_segment": "{}", "ramp_growth_step": 5,
            "ramp_inbound": "skip_month_1", "credit_reasons": ["duplicate", "bad_data", "no_icp_fit", "meeting_no_show"]}
    response = ops_client.post(url, data)
    assert response.status_code == 200 and "90" in response.content.decode()
    roe.refresh_from_db()
    assert roe.inactivity_days == 30
    data["inactivity_days"] = 45
    assert ops_client.post(url, data).status_code == 302
    change = RulesChange.objects.get()
    assert change.actor == ops.user and change.changes["inactivity_days"] == [30, 45]
    assert change.changes["meaningful_activity_types"] == [["call", "email", "social", "meeting"], ["call", "email"]]
    roe.refresh_from_db()
    assert roe.rest_days_by_reason == {"not_interested": 90}
    data["rest_days_not_interested"], data["rest_days_duplicate"] = "", 7
    assert ops_client.post(url, data).status_code == 302
    roe.refresh_from_db()
    assert roe.rest_days_by_reason == {"duplicate": 7}
    # The form and the history read in words, not codes or JSON.
    page = ops_client.get(url).content.decode()
    assert 'name="rest_days_not_interested"' in page and "Not interested" in page
    assert "Rest days by reason: Not interested: 90 days → Duplicate: 7 days" in page
    assert "Meaningful activity types: Call, Email, Social, Meeting → Call, Email" in page.replace("&#x27;", "'")
    assert "not_interested" not in re.sub(r"<[^>]*>", " ", page)  # the words people see


def test_distribution_preview_then_commit_through_admin(ops_client, sdr):
    sdr.capacity = 3
    sdr.save()
    for score in (90, 50, 20, 10):
        ScoredAccountFactory(total_score=score)
    response = ops_client.post(reverse("admin:routing_distribution_new"), {"team": "", "segment": ""})
    distribution = Distribution.objects.get()
    assert response.url == reverse("admin:routing_distribution_preview", args=[distribution.pk])
    page = ops_client.get(response.url).content.decode()
    assert "Sam Seller" in page and "A: 1" in page and "Commit this distribution" in page
    ops_client.post(reverse("admin:routing_distribution_commit", args=[distribution.pk]))
    assert Account.objects.filter(owner=sdr).count() == 3


def test_sdr_return_form_only_for_own_accounts(client, sdr, other_sdr):
    mine = ScoredAccountFactory()
    theirs = ScoredAccountFactory()
    account_set_owner(account=mine, to_rep=sdr, reason="manual")
    account_set_owner(account=theirs, to_rep=other_sdr, reason="manual")
    replacement = ScoredAccountFactory(total_score=88)
    client.force_login(sdr.user)
    page = client.get(reverse("admin:accounts_account_change", args=[mine.pk])).content.decode()
    assert reverse("admin:routing_returnrequest_file", args=[mine.pk]) in page
    assert client.get(reverse("admin:routing_returnrequest_file", args=[theirs.pk])).status_code in (403, 404)
    response = client.post(reverse("admin:routing_returnrequest_file", args=[mine.pk]), {"reason": "duplicate", "note": ""})
    assert response.status_code == 200 and "Name the account" in response.content.decode()
    response = client.post(reverse("admin:routing_returnrequest_file", args=[mine.pk]),
                           {"reason": "not_interested", "note": "said no twice", "swap": "on"})
    assert response.status_code == 302
    request = ReturnRequest.objects.get()
    assert request.swap_account == replacement and request.status == "pending"
    assert client.get(reverse("admin:routing_returnrequest_changelist")).status_code == 200


def test_review_approve_and_reject_and_permissions(client, ops, sdr, manager, other_sdr):
    accounts = [ScoredAccountFactory() for _ in range(2)]
    for account in accounts:
        account_set_owner(account=account, to_rep=sdr, reason="manual")
    first = return_file(account=accounts[0], rep=sdr, reason="out_of_business")
    second = return_file(account=accounts[1], rep=sdr, reason="not_interested")
    client.force_login(sdr.user)
    assert client.get(reverse("admin:routing_returnrequest_review", args=[first.pk])).status_code in (403, 404)
    client.force_login(manager.user)  # the rep's manager reviews their team's returns
    url = reverse("admin:routing_returnrequest_review", args=[first.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"outcome": "", "_approve": "1"}).status_code == 302
    first.refresh_from_db()
    assert (first.status, first.outcome) == ("approved", "disqualify")
    client.force_login(ops.user)
    url = reverse("admin:routing_returnrequest_review", args=[second.pk])
    response = client.post(url, {"_reject": "1", "note": ""})
    assert "Tell the rep why" in response.content.decode()
    client.post(url, {"_reject": "1", "note": "keep going"})
    second.refresh_from_db()
    assert second.status == "rejected"


def test_claim_next_button(client, sdr):
    from apps.routing.models import Strategy

    rule_with([sdr], strategy=Strategy.QUEUE)
    lead_route(contact=ContactFactory(email="a@queued.com", account=None))
    client.force_login(sdr.user)
    response = client.post(reverse("admin:routing_queueitem_claim_next"))
    assert response.status_code == 302
    assert QueueItem.objects.get().claimed_by == sdr
    assert RoutingRule.objects.count() == 1


def test_route_action_on_contacts_and_decisions_shown(client, ops, sdr):
    rule_with([sdr])
    contact = ContactFactory(email="new@fresh-co.com", account=None, source="inbound")
    client.force_login(ops.user)
    response = client.post(reverse("admin:people_contact_changelist"),
                           {"action": "route_selected_leads", "_selected_action": [contact.pk]}, follow=True)
    assert "Sam Seller" in response.content.decode()
    account = Account.objects.get(domain="fresh-co.com")
    assert account.owner == sdr
    page = client.get(reverse("admin:accounts_account_change", args=[account.pk])).content.decode()
    assert "Routing decisions" in page and "picked Sam Seller" in page
    page = client.get(reverse("admin:people_contact_change", args=[contact.pk])).content.decode()
    assert "picked Sam Seller" in page


def test_route_again_action_from_ops_queue(client, ops, sdr):
    account = ScoredAccountFactory(domain="acme.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    contact = ContactFactory(email="boss@gmail.com", account=None, source="inbound")
    parked = lead_route(contact=contact)
    client.force_login(ops.user)
    page = client.get(reverse("admin:routing_routingdecision_changelist") + "?queue=open").content.decode()
    assert "boss@gmail.com" in page
    contact.account = account
    contact.save()
    client.post(reverse("admin:routing_routingdecision_changelist"),
                {"action": "route_again", "_selected_action": [parked.pk]})
    parked.refresh_from_db()
    assert parked.resolved_at is not None
    assert contact.lead_cycles.get().rep == sdr
