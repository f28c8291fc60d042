"""Returns (file, review), signals, the account's score explanation and lead dispositions
through the API: the same services and role rules as the admin."""

from __future__ import annotations

import pytest
from django.core import mail

from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import Signal
from apps.icps.tests.factories import ICPFactory, RuleFactory, signal_type
from apps.integrations.models import Scope
from apps.leads.models import DispositionReason, LeadCycle
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory
from apps.routing.models import ReturnRequest
from apps.routing.tests.factories import ScoredAccountFactory

pytestmark = pytest.mark.django_db


def owned(rep, **kwargs):
    account = AccountFactory(**kwargs)
    account_set_owner(account=account, to_rep=rep, reason=OwnershipReason.MANUAL)
    return account


# --- returns -------------------------------------------------------------------------------


def test_sdr_files_a_return_of_own_account_only(make_client, sdr, other_sdr):
    mine, theirs = owned(sdr, domain="mine.io"), owned(other_sdr, domain="theirs.io")
    client, _ = make_client(sdr)
    response = client.post("/api/returns/", {"account": mine.pk, "reason": "not_interested", "note": "Said no"},
                           format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending" and response.json()["rep"] == sdr.pk
    # Another SDR's account is outside the caller's scope: not found, nothing filed.
    response = client.post("/api/returns/", {"account": theirs.pk, "reason": "bad_data"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": [f"No account with id {theirs.pk} in your scope."]}
    # A second return of the same account while one waits: the service's message.
    again = client.post("/api/returns/", {"account": mine.pk, "reason": "bad_data"}, format="json")
    assert again.status_code == 400 and "already has a return waiting" in str(again.json()["errors"])
    assert ReturnRequest.objects.count() == 1


def test_manager_may_see_but_not_return_an_account_of_their_team(make_client, manager, sdr):
    mine = owned(sdr, domain="mine.io")
    client, _ = make_client(manager)
    # Managers have no add_returnrequest right in the admin, so not here either.
    assert client.post("/api/returns/", {"account": mine.pk, "reason": "bad_data"}, format="json").status_code == 403


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"reason": "duplicate"}, "duplicate_of"),
        ({"reason": "get_back_to_me"}, "get_back_on"),
        ({"reason": "get_back_to_me", "get_back_on": "2001-01-01"}, "get_back_on"),
        ({"reason": "retrieval"}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": "duplicate", "duplicate_of": 999999}, "duplicate_of"),
    ],
)
def test_return_validation_errors_name_the_field(make_client, sdr, payload, field):
    mine = owned(sdr, domain="mine.io")
    client, _ = make_client(sdr)
    response = client.post("/api/returns/", {"account": mine.pk, **payload}, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not ReturnRequest.objects.exists()


def test_swap_hands_a_replacement_at_once(make_client, sdr):
    mine = owned(sdr, domain="mine.io")
    replacement = ScoredAccountFactory(segment=sdr.segment or "smb", total_score=90)
    client, _ = make_client(sdr)
    response = client.post("/api/returns/", {"account": mine.pk, "reason": "bad_data", "swap": True}, format="json")
    assert response.status_code == 201
    assert response.json()["swap_account"] == replacement.pk
    assert Account.objects.get(pk=replacement.pk).owner_id == sdr.pk


def test_review_by_ops_and_manager_not_by_sdr(make_client, sdr, other_sdr, manager, ops,
                                              django_capture_on_commit_callbacks):
    first, second, third = (owned(sdr, domain=f"r{n}.io") for n in range(3))
    client, _ = make_client(sdr)
    ids = [client.post("/api/returns/", {"account": a.pk, "reason": "not_interested"}, format="json").json()["id"]
           for a in (first, second, third)]
    # The SDR cannot review (their role has no review right).
    assert client.post(f"/api/returns/{ids[0]}/approve/", {}, format="json").status_code == 403
    # Another team's manager-less SDR token cannot see them at all.
    outsider, _ = make_client(other_sdr)
    assert outsider.get(f"/api/returns/{ids[0]}/").status_code == 404
    # The manager approves with an outcome; ops rejects with a reason; the rep is told.
    boss, _ = make_client(manager)
    approved = boss.post(f"/api/returns/{ids[0]}/approve/", {"outcome": "rest", "rest_days": 30}, format="json")
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["status"], approved.json()["outcome"], approved.json()["rest_days"]) == ("approved", "rest", 30)
    assert Account.objects.get(pk=first.pk).owner_id is None
    admin, _ = make_client(ops)
    missing_note = admin.post(f"/api/returns/{ids[1]}/reject/", {}, format="json")
    assert missing_note.status_code == 400 and "note" in missing_note.json()["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        rejected = admin.post(f"/api/returns/{ids[1]}/reject/", {"note": "Call them again"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert Account.objects.get(pk=second.pk).owner_id == sdr.pk
    assert "Call them again" in mail.outbox[-1].body
    # Deciding twice: the service's clear 400.
    twice = admin.post(f"/api/returns/{ids[1]}/approve/", {}, format="json")
    assert twice.status_code == 400 and "already rejected" in str(twice.json()["errors"])
    bad = admin.post(f"/api/returns/{ids[2]}/approve/", {"outcome": "reassign"}, format="json")
    assert bad.status_code == 400 and "reassign_to" in bad.json()["errors"]
    same = admin.post(f"/api/returns/{ids[2]}/approve/", {"outcome": "reassign", "reassign_to": sdr.pk}, format="json")
    assert same.status_code == 400 and "reassign_to" in same.json()["errors"]
    moved = admin.post(f"/api/returns/{ids[2]}/approve/", {"outcome": "reassign", "reassign_to": other_sdr.pk},
                       format="json")
    assert moved.status_code == 200 and Account.objects.get(pk=third.pk).owner_id == other_sdr.pk


def test_manager_cannot_review_another_teams_returns(make_client, other_sdr, manager):
    theirs = owned(other_sdr, domain="t.io")
    filed = make_client(other_sdr)[0].post("/api/returns/", {"account": theirs.pk, "reason": "bad_data"}, format="json")
    boss, _ = make_client(manager)
    assert boss.post(f"/api/returns/{filed.json()['id']}/approve/", {}, format="json").status_code == 404
    assert ReturnRequest.objects.get().status == "pending"


def test_returns_need_the_write_accounts_scope(make_client, sdr):
    mine = owned(sdr, domain="mine.io")
    client, _ = make_client(sdr, scopes=[Scope.READ, Scope.WRITE_LEADS_ACTIVITIES])
    response = client.post("/api/returns/", {"account": mine.pk, "reason": "bad_data"}, format="json")
    assert response.status_code == 403 and "write_accounts" in response.json()["detail"]


# --- signals and score explanation ---------------------------------------------------------


def test_signal_recorded_rescores_and_explains(make_client, sdr, other_sdr):
    icp = ICPFactory()
    RuleFactory(icp=icp)  # fit: industry Software, 10 points
    RuleFactory(icp=icp, category="readiness", condition="signal_count", signal_type=signal_type("demo_request"),
                values=[], minimum=1, days=30, points=20)
    account = owned(sdr, domain="sig.io", industry="Software")
    theirs = owned(other_sdr, domain="theirs.io")
    client, _ = make_client(sdr)
    response = client.post("/api/signals/", {"account_domain": "www.sig.io", "type": "demo_request"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["type_key"] == "demo_request"
    account.refresh_from_db()
    assert account.readiness_score == 20 and account.fit_score == 10
    detail = client.get(f"/api/accounts/{account.pk}/").json()
    explanation = detail["score_explanation"]
    assert explanation["total"] == 30 == detail["total_score"]
    hits = {(h["category"], h["points"]) for h in explanation["icps"][0]["hits"]}
    assert hits == {("fit", 10), ("readiness", 20)}
    assert explanation["matched_icp"] == explanation["icps"][0]["icp_id"]
    # Lists do not carry the (per-account) explanation.
    assert "score_explanation" not in client.get("/api/accounts/").json()["results"][0]
    assert [s["account"] for s in client.get("/api/signals/").json()["results"]] == [account.pk]
    # Another SDR's account: not in scope, nothing recorded.
    response = client.post("/api/signals/", {"account": theirs.pk, "type": "demo_request"}, format="json")
    assert response.status_code == 400 and "account" in response.json()["errors"]
    assert Signal.objects.count() == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"type": "demo_request"}, "account"),
        ({"account_domain": "sig.io", "type": "telepathy"}, "type"),
        ({"account_domain": "sig.io", "type": "get_back_to_me_date"}, "date"),
        ({"account_domain": "nowhere.io", "type": "demo_request"}, "account_domain"),
        ({"account_domain": "sig.io", "type": "demo_request", "occurred_at": "yesterday"}, "occurred_at"),
    ],
)
def test_signal_validation_errors(make_client, sdr, payload, field):
    owned(sdr, domain="sig.io")
    signal_type("get_back_to_me_date")
    client, _ = make_client(sdr)
    response = client.post("/api/signals/", payload, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not Signal.objects.exists()


def test_signals_need_write_accounts_and_ae_may_not_add(make_client, sdr, ae):
    account = owned(sdr, domain="sig.io")
    client, _ = make_client(sdr, scopes=[Scope.READ, Scope.WRITE_LEADS_ACTIVITIES])
    assert client.post("/api/signals/", {"account": account.pk, "type": "demo_request"}, format="json").status_code == 403
    assert make_client(ae)[0].post("/api/signals/", {"account": account.pk, "type": "demo_request"},
                                   format="json").status_code == 403
    assert client.get("/api/signal-types/").status_code == 200


# --- lead dispositions ---------------------------------------------------------------------


def test_sdr_dispositions_own_lead_with_a_reason(make_client, sdr, other_sdr):
    account = owned(sdr, domain="lead.io")
    contact = ContactFactory(email="lee@lead.io", account=account)
    cycle = lead_cycle_open(contact=contact, rep=sdr)
    nurture = DispositionReason.objects.filter(disposition="nurture", active=True).first()
    unqualified = DispositionReason.objects.filter(disposition="unqualified").first()
    client, _ = make_client(sdr)
    url = f"/api/lead-cycles/{cycle.pk}/disposition/"
    no_reason = client.post(url, {"disposition": "nurture"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    wrong_kind = client.post(url, {"disposition": "nurture", "reason": unqualified.pk}, format="json")
    assert wrong_kind.status_code == 400 and "reason" in wrong_kind.json()["errors"]
    qualified = client.post(url, {"disposition": "qualified"}, format="json")
    assert qualified.status_code == 400 and "meeting" in str(qualified.json()["errors"])
    # Another SDR cannot see the cycle at all.
    assert make_client(other_sdr)[0].post(url, {"disposition": "nurture", "reason": nurture.pk},
                                          format="json").status_code == 404
    done = client.post(url, {"disposition": "nurture", "reason": nurture.pk}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["state"], done.json()["disposition"], done.json()["bypassed_working"]) == (
        "dispositioned", "nurture", True)
    assert LeadCycle.objects.get(pk=cycle.pk).dispositioned_by == sdr.user
    again = client.post(url, {"disposition": "nurture", "reason": nurture.pk}, format="json")
    assert again.status_code == 400 and "already dispositioned" in str(again.json()["errors"])
    assert client.get("/api/lead-cycles/", {"email": "LEE@lead.io"}).json()["results"][0]["id"] == cycle.pk
