"""Scope walls on writes: an id, email or domain a caller supplies never reaches an object
outside the caller's scope, and a hidden object answers exactly as a missing one.

Two halves. The explicit cases (lead intake, return review, webhooks, queue items…) pin the
answers users see. The generated checks at the end walk every admin add/change form (and
inline) with a foreign key, from the admin registry, and every write endpoint of the API
router with a reference field, from their request serializers: an endpoint or form added
later is covered without touching this file, or fails until its new field is classified.
"""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from io import StringIO

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import Account
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.integrations.models import Scope
from apps.integrations.services import integration_create
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.routing.models import QueueItem, ReturnRequest, RoutingDecision, Strategy
from apps.routing.services import return_approve, return_file
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db

ALL_SCOPES = [Scope.READ, Scope.WRITE_LEADS_ACTIVITIES, Scope.WRITE_ACCOUNTS]


@pytest.fixture
def walls(sdr, other_sdr, manager, other_team, ae, ops):
    """East (manager Mona, SDR Sam, AE Abe) and West (manager Otto, SDR Olga, AE Wes)."""
    other_manager = RepFactory(role=Rep.Role.MANAGER, team=other_team, owner_name="Otto Othermanager",
                               user__username="otto")
    other_team.manager = other_manager
    other_team.save()
    other_sdr.manager = other_manager
    other_sdr.save()
    other_ae = RepFactory(role=Rep.Role.AE, team=other_team, owner_name="Wes Westcloser", user__username="wes")
    second_sdr = RepFactory(role=Rep.Role.SDR, team=sdr.team, manager=manager, owner_name="Sue Second",
                            user__username="sue")
    mine = AccountFactory(name="Sams Account", domain="sams-account.io")
    theirs = AccountFactory(name="Olgas Secret Account", domain="olgas-secret.io")
    account_set_owner(account=mine, to_rep=sdr, reason="distribution")
    account_set_owner(account=theirs, to_rep=other_sdr, reason="distribution")
    hidden_contact = ContactFactory(account=theirs, email="vera@olgas-secret.io", first_name="Vera",
                                    last_name="Hidden", title="CFO")
    my_contact = ContactFactory(account=mine, email="mo@sams-account.io", first_name="Mo", title="CTO")
    from apps.meetings.services import opportunity_create

    # One opportunity per team, so AEs and managers have change forms to walk.
    opportunity_create(account=mine, owner=ae, sourcing_sdr=sdr, actor=None)
    opportunity_create(account=theirs, owner=other_ae, sourcing_sdr=other_sdr, actor=None)
    return {
        "sdr": sdr, "second_sdr": second_sdr, "other_sdr": other_sdr, "manager": manager,
        "other_manager": other_manager, "ae": ae, "other_ae": other_ae, "ops": ops,
        "mine": mine, "theirs": theirs, "hidden_contact": hidden_contact, "my_contact": my_contact,
    }


def token_client(rep_or_user, scopes=ALL_SCOPES) -> APIClient:
    user = getattr(rep_or_user, "user", rep_or_user)
    _integration, token = integration_create(name=f"walls-{user.username}-{'-'.join(scopes)}-{Rep.objects.count()}"
                                             f"-{user.integrations.count()}", user=user, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def session_client(rep) -> APIClient:
    client = APIClient()
    client.force_login(rep.user)
    return client


# Tables whose rows change on any request (sessions, login stamps, throttling, the task
# queue) are left out of "nothing changed"; everything a business write touches is in.
UNWATCHED_TABLES = {
    "django_session", "integrations_integration", "sdrops_cache", "sdrops_apithrottle", "django_q_ormq", "django_q_task",
    "django_admin_log", "auth_user",
}


def database_digest() -> dict[str, str]:
    """One digest per table of the project's apps: any inserted, updated or deleted row shows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [t for (t,) in cursor.fetchall() if t not in UNWATCHED_TABLES and not t.startswith("axes_")]
        digest = {}
        for table in tables:
            cursor.execute(f'SELECT md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "{table}" t')
            digest[table] = cursor.fetchone()[0]
    return digest


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


# =========================================================================================
# 1. Lead intake: one service, the scope rule, one behaviour for an open cycle
# =========================================================================================


def assert_reveals_nothing(body: dict, walls) -> None:
    assert body["routed"] is False and body["assigned"] is False
    assert body["account"] is None and body["rep"] is None and body["lead_cycle"] is None
    assert body["decision"] is None
    assert body["contact"]["id"] is None and body["contact"]["created"] is False
    text = json.dumps(body)
    for secret in ("Olga", "Wes", "Olgas Secret Account", '"domain": "olgas-secret.io"', "Vera", "CFO",
                   str(walls["theirs"].pk)):
        if secret == str(walls["theirs"].pk):
            assert f'"id": {secret}' not in text
        else:
            assert secret not in text, secret


@pytest.mark.parametrize("caller", ["sdr_token", "sdr_session"])
@pytest.mark.parametrize("open_cycle", [False, True])
def test_lead_for_a_hidden_contact_changes_nothing_and_reveals_nothing(walls, caller, open_cycle):
    rule_with([walls["sdr"]])
    hidden = walls["hidden_contact"]
    if open_cycle:
        lead_cycle_open(contact=hidden, rep=walls["other_sdr"])
    if caller == "sdr_token":
        client = token_client(walls["sdr"], [Scope.WRITE_LEADS_ACTIVITIES])
    else:
        client = session_client(walls["sdr"])
    cycles_before = LeadCycle.objects.count()
    before = database_digest()
    response = client.post("/api/leads/", {"email": "VERA@olgas-secret.io", "first_name": "Hacked", "title": "Intern"},
                           format="json")
    assert response.status_code == 200, response.content
    assert_reveals_nothing(response.json(), walls)
    assert "outside your scope" in response.json()["detail"]
    hidden.refresh_from_db()
    assert (hidden.first_name, hidden.title) == ("Vera", "CFO")
    assert LeadCycle.objects.count() == cycles_before
    assert not RoutingDecision.objects.filter(contact=hidden).exists()
    assert changed_tables(before, database_digest()) == []


def test_company_wide_integration_keeps_todays_behaviour(walls):
    from apps.people.tests.factories import UserFactory

    rule_with([walls["other_sdr"]])
    crm = token_client(UserFactory(username="crm-bot", is_superuser=True))
    response = crm.post("/api/leads/", {"email": "vera@olgas-secret.io", "title": "CEO"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    # Olga's account has an open opportunity: its owner (Wes) gets the lead, as before.
    assert body["routed"] and body["rep"]["id"] == walls["other_ae"].pk
    assert body["account"]["id"] == walls["theirs"].pk
    walls["hidden_contact"].refresh_from_db()
    assert walls["hidden_contact"].title == "CEO"


def test_sdr_updates_and_routes_a_contact_in_their_own_book(walls):
    client = token_client(walls["sdr"], [Scope.WRITE_LEADS_ACTIVITIES])
    response = client.post("/api/leads/", {"email": "mo@sams-account.io", "title": "CEO"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["routed"] and body["rep"]["id"] == walls["ae"].pk and body["account"]["id"] == walls["mine"].pk
    walls["my_contact"].refresh_from_db()
    assert walls["my_contact"].title == "CEO"
    again = client.post("/api/leads/", {"email": "mo@sams-account.io"}, format="json")
    assert again.status_code == 200 and again.json()["routed"] is False
    assert "already has an open lead cycle" in again.json()["detail"]


def test_a_new_lead_routed_into_another_book_is_created_but_the_answer_names_nothing_there(walls):
    client = token_client(walls["sdr"], [Scope.WRITE_LEADS_ACTIVITIES])
    response = client.post("/api/leads/", {"email": "new.person@olgas-secret.io"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["routed"] is True and body["assigned"] is True
    assert body["account"] is None and body["rep"] is None and body["decision"] is None and body["lead_cycle"] is None
    assert "Wes" not in json.dumps(body) and "Olgas Secret" not in json.dumps(body)
    assert LeadCycle.objects.get(contact__email="new.person@olgas-secret.io").rep == walls["other_ae"]


def test_lead_intake_service_is_the_one_rule(walls):
    from apps.routing.intake import LeadIntake, lead_intake

    hidden = walls["hidden_contact"]
    refused = lead_intake(actor=walls["sdr"].user, email=hidden.email, first_name="X")
    assert refused.outcome == LeadIntake.Outcome.OUT_OF_SCOPE and refused.contact is None and refused.decision is None
    hidden.refresh_from_db()
    assert hidden.first_name == "Vera" and not LeadCycle.objects.filter(contact=hidden).exists()
    # The system (commands, jobs) and ops are company-wide.
    routed = lead_intake(actor=None, email=hidden.email, title="COO")
    assert routed.outcome == LeadIntake.Outcome.ROUTED and routed.decision.rep == walls["other_ae"]
    again = lead_intake(actor=walls["ops"].user, email=hidden.email)
    assert again.outcome == LeadIntake.Outcome.OPEN_CYCLE and again.cycle is not None


def test_route_leads_reports_an_open_cycle_per_row_and_creates_contacts_through_contact_upsert(walls, tmp_path):
    rule_with([walls["sdr"], walls["second_sdr"]])
    lead_cycle_open(contact=walls["my_contact"], rep=walls["sdr"])
    known = ContactFactory(account=None, email="kim@known.io", title="Old title", first_name="Kim")
    path = tmp_path / "leads.csv"
    path.write_text("email,first_name,title\nmo@sams-account.io,Mo,\nkim@known.io,,New title\nfresh@newco.io,Fay,\n")
    out = StringIO()
    call_command("route_leads", str(path), stdout=out)  # never aborts the file
    text = out.getvalue()
    assert "line 2: mo@sams-account.io already has an open lead cycle" in text
    assert Contact.objects.get(email="fresh@newco.io").first_name == "Fay"
    known.refresh_from_db()
    assert known.title == "New title"  # contact_upsert: given fields overwrite
    assert LeadCycle.objects.filter(contact__email__in=["kim@known.io", "fresh@newco.io"]).count() == 2
    assert "1 not routed" in text


def test_route_leads_as_a_user_is_scoped_like_the_api(walls, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("email,title\nvera@olgas-secret.io,Intern\n")
    out = StringIO()
    call_command("route_leads", str(path), "--user", walls["sdr"].user.username, stdout=out)
    assert "line 2: vera@olgas-secret.io is a lead outside your scope" in out.getvalue()
    walls["hidden_contact"].refresh_from_db()
    assert walls["hidden_contact"].title == "CFO"


def test_contact_admin_action_reports_open_cycles_per_row(walls, client):
    rule_with([walls["sdr"]])
    lead_cycle_open(contact=walls["my_contact"], rep=walls["sdr"])
    other = ContactFactory(account=walls["mine"], email="lee@sams-account.io")
    client.force_login(walls["ops"].user)
    response = client.post(reverse("admin:people_contact_changelist"),
                           {"action": "route_selected_leads", "_selected_action": [walls["my_contact"].pk, other.pk]},
                           follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert any("mo@sams-account.io" in t and "already has an open lead cycle" in t for t in texts), texts
    assert LeadCycle.objects.filter(contact=other).count() == 1


def test_contact_admin_add_routes_through_lead_intake_and_redacts_other_books(walls, client):
    client.force_login(walls["sdr"].user)
    response = client.post(reverse("admin:people_contact_add"), {
        "first_name": "Nia", "email": "nia@olgas-secret.io", "buying_role": "other", "source": "inbound", "account": "",
        "title": "", "last_name": "", "persona": "",
    }, follow=True)
    texts = " ".join(str(m) for m in response.context["messages"])
    assert "Wes" not in texts and "Olgas" not in texts and "outside your scope" in texts
    assert LeadCycle.objects.get(contact__email="nia@olgas-secret.io").rep == walls["other_ae"]


def test_contact_admin_add_with_a_hidden_contacts_address_in_capitals_is_a_form_error(walls, client):
    client.force_login(walls["sdr"].user)
    response = client.post(reverse("admin:people_contact_add"), {
        "first_name": "Hacked", "email": "VERA@Olgas-Secret.io", "buying_role": "other", "source": "inbound",
        "account": "", "title": "Intern", "last_name": "", "persona": "",
    })
    assert response.status_code == 200 and "email" in response.context["adminform"].form.errors
    walls["hidden_contact"].refresh_from_db()
    assert (walls["hidden_contact"].first_name, walls["hidden_contact"].title) == ("Vera", "CFO")
    assert not LeadCycle.objects.filter(contact=walls["hidden_contact"]).exists()


# =========================================================================================
# 2. Return review: reassign targets and merge survivors inside the reviewer's scope
# =========================================================================================


@pytest.fixture
def pending_return(walls):
    return return_file(account=walls["mine"], rep=walls["sdr"], reason="not_interested", actor=walls["sdr"].user)


def manager_client(walls):
    return session_client(walls["manager"])


@pytest.mark.parametrize("target", ["other_sdr", "ae", "ops", "other_manager"])
def test_api_reassign_outside_the_reviewers_teams_answers_as_a_missing_rep(walls, pending_return, target):
    client = manager_client(walls)
    url = f"/api/returns/{pending_return.pk}/approve/"
    before = database_digest()
    hidden = client.post(url, {"outcome": "reassign", "reassign_to": walls[target].pk}, format="json")
    missing = client.post(url, {"outcome": "reassign", "reassign_to": 999_999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == json.loads(json.dumps(missing.json()).replace("999999", str(walls[target].pk)))
    assert changed_tables(before, database_digest()) == []


def test_api_reassign_to_an_sdr_of_the_reviewers_team_works_and_ops_may_pick_anyone(walls, pending_return):
    response = manager_client(walls).post(f"/api/returns/{pending_return.pk}/approve/",
                                          {"outcome": "reassign", "reassign_to": walls["second_sdr"].pk}, format="json")
    assert response.status_code == 200, response.json()
    walls["mine"].refresh_from_db()
    assert walls["mine"].owner == walls["second_sdr"]
    other = AccountFactory()
    account_set_owner(account=other, to_rep=walls["sdr"], reason="distribution")
    second = return_file(account=other, rep=walls["sdr"], reason="not_interested", actor=walls["sdr"].user)
    response = session_client(walls["ops"]).post(f"/api/returns/{second.pk}/approve/",
                                                 {"outcome": "reassign", "reassign_to": walls["other_sdr"].pk},
                                                 format="json")
    assert response.status_code == 200, response.json()


def test_service_refuses_a_reassign_target_outside_the_reviewers_teams(walls, pending_return):
    with pytest.raises(ValidationError) as error:
        return_approve(return_request=pending_return, actor=walls["manager"].user, outcome="reassign",
                       reassign_to=walls["other_sdr"])
    assert "reassign_to" in error.value.message_dict
    pending_return.refresh_from_db()
    assert pending_return.status == ReturnRequest.Status.PENDING


def test_admin_review_form_lists_only_assignable_sdrs_and_refuses_others(walls, pending_return, client):
    client.force_login(walls["manager"].user)
    url = reverse("admin:routing_returnrequest_review", args=[pending_return.pk])
    choices = client.get(url).context["form"].fields["reassign_to"].queryset
    assert set(choices) == {walls["second_sdr"]}
    before = database_digest()
    hidden = client.post(url, {"outcome": "reassign", "reassign_to": walls["other_sdr"].pk, "note": "", "_approve": "1"})
    missing = client.post(url, {"outcome": "reassign", "reassign_to": 999_999, "note": "", "_approve": "1"})
    assert hidden.status_code == missing.status_code == 200
    assert hidden.context["form"].errors == missing.context["form"].errors
    assert changed_tables(before, database_digest()) == []


def test_duplicate_of_a_hidden_account_is_refused_like_a_missing_one_when_filing(walls, client):
    api = session_client(walls["sdr"])
    hidden = api.post("/api/returns/", {"account": walls["mine"].pk, "reason": "duplicate",
                                        "duplicate_of": walls["theirs"].pk}, format="json")
    missing = api.post("/api/returns/", {"account": walls["mine"].pk, "reason": "duplicate",
                                         "duplicate_of": 999_999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == json.loads(json.dumps(missing.json()).replace("999999", str(walls["theirs"].pk)))
    client.force_login(walls["sdr"].user)
    url = reverse("admin:routing_returnrequest_file", args=[walls["mine"].pk])
    by_domain = client.post(url, {"reason": "duplicate", "duplicate_of": "olgas-secret.io", "note": ""})
    nowhere = client.post(url, {"reason": "duplicate", "duplicate_of": "no-such-domain.io", "note": ""})
    assert by_domain.context["form"].errors["duplicate_of"] == [
        e.replace("no-such-domain.io", "olgas-secret.io") for e in nowhere.context["form"].errors["duplicate_of"]]
    with pytest.raises(ValidationError) as error:
        return_file(account=walls["mine"], rep=walls["sdr"], reason="duplicate", duplicate_of=walls["theirs"],
                    actor=walls["sdr"].user)
    assert "duplicate_of" in error.value.message_dict
    assert not ReturnRequest.objects.exists()


def test_merge_survivor_outside_the_reviewers_scope_is_refused(walls, client):
    # Filed while the survivor was in Sam's own book; it has since moved to West.
    survivor = AccountFactory(name="Survivor Co", domain="survivor.io")
    account_set_owner(account=survivor, to_rep=walls["sdr"], reason="distribution")
    request = return_file(account=walls["mine"], rep=walls["sdr"], reason="duplicate", duplicate_of=survivor,
                          actor=walls["sdr"].user)
    account_set_owner(account=survivor, to_rep=walls["other_sdr"], reason="manual")
    with pytest.raises(ValidationError):
        return_approve(return_request=request, actor=walls["manager"].user, outcome="merge")
    assert Account.objects.filter(pk=walls["mine"].pk).exists()
    client.force_login(walls["manager"].user)
    page = client.get(reverse("admin:routing_returnrequest_review", args=[request.pk]))
    assert "Survivor Co" not in page.content.decode()
    assert "merge" not in dict(page.context["form"].fields["outcome"].choices)
    response = session_client(walls["manager"]).post(f"/api/returns/{request.pk}/approve/", {"outcome": "merge"},
                                                     format="json")
    assert response.status_code == 400 and Account.objects.filter(pk=walls["mine"].pk).exists()
    return_approve(return_request=request, actor=walls["ops"].user, outcome="merge")
    assert not Account.objects.filter(pk=walls["mine"].pk).exists()


# =========================================================================================
# 3. The same pattern elsewhere
# =========================================================================================


def test_queue_items_are_scoped_to_the_reps_queues(walls, client):
    east = rule_with([walls["sdr"]], strategy=Strategy.QUEUE, name="East queue")
    west = rule_with([walls["other_sdr"]], strategy=Strategy.QUEUE, name="West queue")
    mine = QueueItem.objects.create(rule=east, contact=walls["my_contact"])
    QueueItem.objects.create(rule=west, contact=walls["hidden_contact"])
    client.force_login(walls["sdr"].user)
    listing = client.get(reverse("admin:routing_queueitem_changelist"))
    assert [item.pk for item in listing.context["cl"].result_list] == [mine.pk]
    hidden = QueueItem.objects.exclude(pk=mine.pk).get()
    assert client.get(reverse("admin:routing_queueitem_change", args=[hidden.pk])).status_code == 302
    client.force_login(walls["manager"].user)
    walls["manager"].user.groups.add(*walls["sdr"].user.groups.all())
    listing = client.get(reverse("admin:routing_queueitem_changelist"))
    assert [item.pk for item in listing.context["cl"].result_list] == [mine.pk]


def test_meeting_for_an_ae_the_sdr_does_not_book_for_answers_as_a_missing_one(walls):
    walls["sdr"].ae_partners.add(walls["ae"])
    api = session_client(walls["sdr"])
    body = {"contact": walls["my_contact"].pk, "scheduled_at": "2099-01-01T10:00:00Z"}
    hidden = api.post("/api/meetings/", {**body, "ae": walls["other_ae"].pk}, format="json")
    missing = api.post("/api/meetings/", {**body, "ae": 999_999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == json.loads(json.dumps(missing.json()).replace("999999", str(walls["other_ae"].pk)))
    assert "Wes" not in json.dumps(hidden.json())


def crm_post(client, integration, body: dict, key: str):
    import hmac

    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(integration.secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/api/webhooks/crm/", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key,
                       HTTP_X_SDROPS_SIGNATURE=signature)


def test_crm_webhook_with_a_scoped_integration_answers_hidden_domains_as_missing_ones(walls):
    integration, token = integration_create(name="East tool", user=walls["manager"].user, scopes=ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = database_digest()

    def upsert(domain, key, **extra):
        return crm_post(client, integration, {"event": "account.upsert", "occurred_at": "2026-11-26T09:00:00Z",
                                              "account": {"domain": domain, "industry": "Spying", **extra}}, key)

    hidden, missing = upsert("olgas-secret.io", "k1"), upsert("nobody-has-this.io", "k2")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == json.loads(json.dumps(missing.json()).replace("nobody-has-this.io", "olgas-secret.io"))
    # An owner name is looked up only for an integration that may change owners.
    named, unknown = upsert("sams-account.io", "k3", owner_name="Olga Other"), upsert("sams-account.io", "k4",
                                                                                      owner_name="Nobody At All")
    assert named.json()["errors"] == unknown.json()["errors"]
    walls["theirs"].refresh_from_db()
    assert walls["theirs"].industry != "Spying"
    changed = set(changed_tables(before, database_digest()))
    assert changed <= {"integrations_inbounddelivery"}, changed


def test_crm_stale_answer_names_no_hidden_account(walls):
    integration, token = integration_create(name="East tool", user=walls["manager"].user, scopes=ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    first = crm_post(client, integration, {"event": "account.upsert", "occurred_at": "2026-11-26T09:00:00Z",
                                           "record_id": "R1", "account": {"domain": "sams-account.io"}}, "a")
    assert first.status_code == 200, first.json()
    stale = crm_post(client, integration, {"event": "account.upsert", "occurred_at": "2026-11-25T09:00:00Z",
                                           "record_id": "R1", "account": {"domain": "olgas-secret.io"}}, "b")
    assert stale.json()["result"] == "stale" and stale.json()["account_id"] is None


def test_research_item_activity_must_be_visible(walls):
    from apps.icps.account_admin import ResearchItemInline

    hidden_activity = ActivityFactory(account=walls["theirs"], rep=walls["other_sdr"])
    request = RequestFactory().get("/")
    request.user = walls["sdr"].user
    inline = ResearchItemInline(Account, admin.site)
    formset = inline.get_formset(request, walls["mine"])
    field = formset.form.base_fields["activity"]
    with pytest.raises(ValidationError):
        field.clean(hidden_activity.pk)


# =========================================================================================
# Generated: every admin form with a foreign key, every write endpoint with a reference
# =========================================================================================

ROLES = ["sdr", "other_manager", "ae"]

# (model label, field name) → why the field may offer records the related model's admin
# hides from the role. Nothing else may.
ADMIN_UNSCOPED_FIELDS: dict[tuple[str, str], str] = {
    # Ops-only screens are never reached by a scoped role; listed here only if a scoped role
    # could open them. Lookup tables every role reads (signal types, disposition reasons,
    # cadences, research categories) have unscoped admins, so they need no entry.
}


def role_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def scope_for(model, request):
    """The records of `model` the role may see: what its registered admin lists. None when
    the model has no admin (then nothing limits it and nothing is checked)."""
    model_admin = admin.site._registry.get(model)
    return None if model_admin is None else model_admin.get_queryset(request)


def admin_forms(request, walls):
    """Every (label, form class, kind) a role can open: add and change forms of each
    ModelAdmin and of each of its inlines, for the first record in the role's scope."""
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda i: i[0]._meta.label):
        if not model_admin.has_view_or_change_permission(request) and not model_admin.has_add_permission(request):
            continue
        obj = model_admin.get_queryset(request).order_by("pk").first()
        if model_admin.has_add_permission(request):
            yield model._meta.label, model_admin.get_form(request, None), "add"
            for inline in model_admin.get_inline_instances(request, None):
                yield f"{model._meta.label} › {inline.model._meta.label}", inline.get_formset(request, None).form, "add"
        if obj is not None and model_admin.has_change_permission(request, obj):
            yield model._meta.label, model_admin.get_form(request, obj), "change"
            for inline in model_admin.get_inline_instances(request, obj):
                if inline.has_add_permission(request, obj) or inline.has_change_permission(request, obj):
                    yield (f"{model._meta.label} › {inline.model._meta.label}",
                           inline.get_formset(request, obj).form, "change")


@pytest.mark.parametrize("role_name", ROLES)
def test_every_admin_form_refuses_foreign_keys_outside_the_roles_scope(walls, role_name):
    rep = walls[role_name]
    request = role_request(rep.user)
    # One record of each kind per team, so every related model has something hidden.
    ActivityFactory(account=walls["theirs"], rep=walls["other_sdr"])
    ActivityFactory(account=walls["mine"], rep=walls["sdr"])
    checked, wrong = 0, []
    for label, form_class, kind in admin_forms(request, walls):
        try:
            # The fields as a form instance has them (a form may narrow choices in __init__).
            fields = form_class().fields
        except TypeError:
            fields = form_class.base_fields
        for name, field in fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            scope = scope_for(field.queryset.model, request)
            if scope is None or (label.split(" › ")[-1], name) in ADMIN_UNSCOPED_FIELDS:
                continue
            hidden = field.queryset.model._default_manager.exclude(pk__in=scope.values("pk")).order_by("pk").first()
            if hidden is None:
                continue
            checked += 1
            value = [hidden.pk] if isinstance(field, forms.ModelMultipleChoiceField) else hidden.pk
            try:
                field.clean(value)
            except ValidationError:
                continue
            wrong.append((label, kind, name, f"accepts hidden {field.queryset.model._meta.label} {hidden.pk}"))
    assert not wrong, wrong
    assert checked > 0


class _FormFields(HTMLParser):
    """The POST a browser would send from an admin change form: inputs, checked boxes,
    selected options, textareas."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = self._textarea = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id", "").endswith("_form"):  # the admin's change form, not the logout one
            self._in_form = True
        if not self._in_form or "name" not in a and tag not in ("option",):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(a["name"], []).append(a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = a["name"]
            self.data.setdefault(self._select, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[self._textarea] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def page_post_data(html: str) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(html)
    return parser.data


def form_errors_for(context, name: str) -> bool:
    """Whether the re-rendered admin page has an error on field `name` (main form or an inline)."""
    if name in context["adminform"].form.errors:
        return True
    for inline in context.get("inline_admin_formsets", []):
        for errors in inline.formset.errors:
            if name.rsplit("-", 1)[-1] in errors:
                return True
    return False


@pytest.mark.parametrize("role_name", ROLES)
def test_every_admin_change_page_refuses_a_posted_hidden_record_and_changes_nothing(walls, role_name):
    """The page as the role's browser would post it, with one foreign key pointed at a record
    the role may not see: the page comes back with that field's error and no row changes."""
    rep = walls[role_name]
    request = role_request(rep.user)
    client = Client(raise_request_exception=False)
    client.force_login(rep.user)
    ActivityFactory(account=walls["theirs"], rep=walls["other_sdr"])
    checked, wrong = 0, []
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda i: i[0]._meta.label):
        obj = model_admin.get_queryset(request).order_by("pk").first() if model_admin.has_view_or_change_permission(
            request) else None
        if obj is None or not model_admin.has_change_permission(request, obj):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        page = client.get(url)
        if page.status_code != 200:
            continue
        data = page_post_data(page.content.decode())
        form = page.context["adminform"].form
        targets = [(name, field) for name, field in form.fields.items() if isinstance(field, forms.ModelChoiceField)]
        for inline in page.context.get("inline_admin_formsets", []):
            for inline_form in inline.formset.forms[:1]:
                # Not the row's own pk or its parent link: those are bounded by the formset itself.
                own = {inline.formset.fk.name, inline.formset.model._meta.pk.name}
                targets += [(inline_form.add_prefix(n), f) for n, f in inline_form.fields.items()
                            if isinstance(f, forms.ModelChoiceField) and n not in own]
        for name, field in targets:
            if name not in data:
                continue  # read-only for this role
            scope = scope_for(field.queryset.model, request)
            if scope is None:
                continue
            hidden = field.queryset.model._default_manager.exclude(pk__in=scope.values("pk")).order_by("pk").first()
            if hidden is None:
                continue
            checked += 1
            before = database_digest()
            response = client.post(url, {**data, name: [str(hidden.pk)]})
            after = database_digest()
            if response.status_code != 200 or not form_errors_for(response.context, name):
                wrong.append((model._meta.label, name, "not refused", response.status_code))
            if changed_tables(before, after):
                wrong.append((model._meta.label, name, "changed", changed_tables(before, after)))
    assert not wrong, wrong
    assert checked > 0


# Write endpoints: request field → the model it selects. A new reference field in any write
# serializer must be classified here (or in API_UNSCOPED_FIELDS) before this test passes.
REFERENCE_FIELDS = {
    "account": "account", "account_domain": "account_domain", "duplicate_of": "account",
    "contact": "contact", "contact_email": "contact_email", "email": "lead_email",
    "rep": "rep", "rep_owner_name": "rep_owner_name", "sdr": "rep", "ae": "ae", "reassign_to": "sdr",
    "owner": "owner", "owner_email": "owner_email",
}
# Legitimately unscoped: lookup tables every caller reads.
API_UNSCOPED_FIELDS = {
    "reason": "disposition reasons are one list for everyone (GET /api/disposition-reasons/)",
    "lead_reason": "disposition reasons, as above",
    "type": "signal types and activity types are lists for everyone",
    "owner_crm_id": "names a CRM user through the mapping table ops edit; the mapped rep is then checked "
                    "against the caller's scope like owner (apps/connect/api.py)",
    "campaign": "campaigns are company records everyone reads (GET /api/campaigns/)",
    "criteria_met": "sales-ready criterion codes, one list for everyone (GET /api/qualification-criteria/)",
}
# Request fields that are plain values, not references.
VALUE_FIELDS = {
    "first_name", "last_name", "title", "persona", "buying_role", "source", "lead_type", "note", "get_back_on",
    "swap", "outcome", "rest_days", "scheduled_at", "scheduled_end_at", "kind", "notes", "sdr_attends", "disposition",
    "override", "occurred_at", "automated", "subject", "value", "date", "name", "website", "domain", "keep_subdomain",
    "industry", "employees", "annual_revenue", "country", "region", "technologies", "segment", "status",
    "activities", "phone", "linkedin_url",
    # POST/PATCH /api/opportunities/ (apps/connect/api.py): values, and our own stage codes.
    "external_id", "system", "stage", "amount", "close_date", "closed_lost_reason", "closed_lost_details",
    # POST /api/follow-ups/ and …/complete/ (apps/cadences/api.py).
    "due_at", "activity_type",
}


# Fields that name the same record another way: the one under test replaces the others.
ALTERNATIVES = {
    "account_domain": ("account",), "account": ("account_domain",), "contact_email": ("contact",),
    "contact": ("contact_email",), "rep_owner_name": ("rep",), "rep": ("rep_owner_name",),
    "owner_email": ("owner",), "owner": ("owner_email",),
}


def write_operations():
    """(path template, method, request serializer fields) for every write of the router's
    viewsets, from the OpenAPI schema drf-spectacular builds from them."""
    from drf_spectacular.generators import SchemaGenerator

    from sdrops.api_urls import router

    prefixes = {f"/api/{prefix}/" for prefix, _viewset, _basename in router.registry}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        if not any(path.startswith(p) for p in prefixes):
            continue
        for method, operation in operations.items():
            if method not in ("post", "patch", "put"):
                continue
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = content.get("schema", {}).get("$ref", "")
            fields = set(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})) if ref else set()
            yield path, method, fields


def test_every_write_endpoint_reference_field_is_classified():
    unknown = []
    operations = list(write_operations())
    for path, method, fields in operations:
        for name in fields:
            if name not in REFERENCE_FIELDS and name not in API_UNSCOPED_FIELDS and name not in VALUE_FIELDS:
                unknown.append((method, path, name))
    assert len(operations) >= 8
    assert not unknown, f"Classify these request fields in tests/test_scope_walls.py: {unknown}"


def hidden_and_missing(kind: str, foreign: dict):
    """A value naming a record outside the caller's scope, and one naming nothing."""
    return {
        "account": (foreign["account"].pk, 999_999),
        "account_domain": (foreign["account"].domain, "nobody-has-this.io"),
        "contact": (foreign["contact"].pk, 999_999),
        "contact_email": (foreign["contact"].email, "nobody@nobody-has-this.io"),
        "rep": (foreign["sdr"].pk, 999_999),
        "sdr": (foreign["sdr"].pk, 999_999),
        "owner": (foreign["sdr"].pk, 999_999),
        "rep_owner_name": (foreign["sdr"].owner_name, "Nobody At All"),
        "ae": (foreign["ae"].pk, 999_999),
        "owner_email": (foreign["ae"].user.email, "nobody@nobody-has-this.io"),
    }[kind]


def base_body(path: str, method: str, own: dict) -> dict | None:
    """A body that would succeed for the caller (its own records), so a refusal comes from the
    reference under test. Every write of the router must have one (or say why it has none)."""
    bodies = {
        ("/api/accounts/", "post"): {"name": "Walls Co"},
        ("/api/accounts/{id}/", "patch"): {"industry": "Robotics"},
        ("/api/accounts/{id}/aliases/", "post"): {"domain": "walls-alias.io"},
        ("/api/activities/", "post"): {"type": "call", "account": own["account"].pk},
        ("/api/activities/bulk/", "post"): None,  # items are /api/activities/ bodies, resolved by the same code
        ("/api/leads/", "post"): {"email": "brand.new@walls-new.io"},
        ("/api/lead-cycles/{id}/disposition/", "post"): None,  # only the URL's cycle (scoped get_object)
        ("/api/returns/", "post"): {"account": own["account"].pk, "reason": "duplicate"},
        ("/api/returns/{id}/approve/", "post"): {"outcome": "reassign"},
        ("/api/returns/{id}/reject/", "post"): None,  # only the URL's return
        ("/api/signals/", "post"): {"type": "demo_request", "account": own["account"].pk},
        ("/api/meetings/", "post"): {"contact": own["contact"].pk, "scheduled_at": "2099-01-01T10:00:00Z"},
        ("/api/meetings/{id}/disposition/", "post"): None,  # only the URL's meeting
        ("/api/opportunities/", "post"): {"external_id": "WALLS-1", "account": own["account"].pk,
                                          "owner": own["ae"].pk},
        ("/api/opportunities/{id}/", "patch"): {"name": "Walls deal"},
        ("/api/follow-ups/", "post"): {"contact": own["contact"].pk, "title": "Call back", "due_at": "2099-01-01T10:00:00Z"},
        ("/api/follow-ups/{id}/complete/", "post"): None,  # only the URL's task (scoped get_object)
        ("/api/follow-ups/{id}/cancel/", "post"): None,  # only the URL's task
    }
    if (path, method) not in bodies:
        pytest.fail(f"Add a base body for {method.upper()} {path} to tests/test_scope_walls.py")
    return bodies[(path, method)]


def normalise(body, hidden, missing) -> str:
    return json.dumps(body).replace(str(missing), "VALUE").replace(str(hidden), "VALUE")


def test_every_write_endpoint_refuses_references_outside_the_callers_scope(walls):
    """For each write and each reference field it takes: a scoped caller (an SDR by session
    and by token, another team's manager) naming a record outside its scope gets exactly the
    answer of a record that does not exist, and nothing changes. A lead's email or
    account_domain may route a new lead anywhere (anyone may add leads), but the answer then
    names nothing outside the caller's scope, and a hidden contact is left alone."""
    from apps.icps.defaults import icps_defaults_ensure

    icps_defaults_ensure()
    walls["sdr"].ae_partners.add(walls["ae"])
    walls["other_sdr"].ae_partners.add(walls["other_ae"])
    east = {"account": walls["mine"], "contact": walls["my_contact"], "sdr": walls["sdr"], "ae": walls["ae"]}
    west = {"account": walls["theirs"], "contact": walls["hidden_contact"], "sdr": walls["other_sdr"],
            "ae": walls["other_ae"]}
    pending = {}
    for team, rep in (("east", walls["sdr"]), ("west", walls["other_sdr"])):
        extra = AccountFactory()
        account_set_owner(account=extra, to_rep=rep, reason="distribution")
        pending[team] = return_file(account=extra, rep=rep, reason="not_interested", actor=None)
    callers = {
        "sdr session": (session_client(walls["sdr"]), east, west, pending["east"]),
        "sdr token": (token_client(walls["sdr"]), east, west, pending["east"]),
        "other-team manager": (session_client(walls["other_manager"]), west, east, pending["west"]),
    }
    wrong, checked = [], 0
    for path, method, fields in write_operations():
        for caller_name, (client, own, foreign, own_return) in callers.items():
            body = base_body(path, method, own)
            if body is None:
                continue
            url = path.replace("{id}", str(own["account"].pk if "accounts" in path else own_return.pk))
            for name in sorted(fields & set(REFERENCE_FIELDS)):
                kind = REFERENCE_FIELDS[name]
                if path == "/api/leads/":
                    value = foreign["contact"].email if kind == "lead_email" else foreign["account"].domain
                    before = database_digest()
                    response = client.post(url, {**body, name: value, "title": "X"}, format="json")
                    checked += 1
                    if response.status_code == 403:
                        continue  # the role may not add leads at all
                    text = json.dumps(response.json())
                    leaks = [s for s in (foreign["sdr"].owner_name, foreign["account"].name, foreign["ae"].owner_name,
                                         foreign["contact"].first_name) if s in text]
                    if response.status_code not in (200, 201) or leaks:
                        wrong.append((caller_name, path, name, response.status_code, leaks))
                    if kind == "lead_email" and changed_tables(before, database_digest()):
                        wrong.append((caller_name, path, name, "changed the database"))
                    continue
                hidden, missing = hidden_and_missing(kind, foreign)
                # The field under test alone names its record (account_domain, not account too).
                trial = {k: v for k, v in body.items() if k not in ALTERNATIVES.get(name, ())}
                before = database_digest()
                hidden_response = getattr(client, method)(url, {**trial, name: hidden}, format="json")
                after = database_digest()
                missing_response = getattr(client, method)(url, {**trial, name: missing}, format="json")
                checked += 1
                if hidden_response.status_code < 400:
                    wrong.append((caller_name, method, path, name, "accepted", hidden_response.status_code))
                elif (hidden_response.status_code, normalise(hidden_response.json(), hidden, missing)) != (
                        missing_response.status_code, normalise(missing_response.json(), hidden, missing)):
                    wrong.append((caller_name, method, path, name, "answers differently",
                                  hidden_response.json(), missing_response.json()))
                if changed_tables(before, after):
                    wrong.append((caller_name, method, path, name, "changed", changed_tables(before, after)))
    assert not wrong, "\n".join(str(w)[:400] for w in wrong)
    assert checked > 30
