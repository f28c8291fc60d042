from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Account, ActivityType
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.icps.account_admin import account_score_breakdown
from apps.icps.admin_filters import MatchedICPFilter, QuadrantFilter, ResearchCompletenessFilter, TierFilter
from apps.icps.models import ICP, ICPChange, ResearchCategory, Rule, ScoringSettings, Signal
from apps.icps.selectors import account_research_progress
from apps.icps.services import accounts_rescore, research_items_tick
from apps.icps.tests.factories import ICPFactory, RuleFactory, SignalFactory, signal_type

pytestmark = pytest.mark.django_db
C = Rule.Condition


def rule_post(icp: ICP | None, rules: list[dict], **fields) -> dict:
    data = {
        "name": fields.get("name", icp.name if icp else "New ICP"),
        "description": fields.get("description", ""),
        "rules-TOTAL_FORMS": str(len(rules)),
        "rules-INITIAL_FORMS": str(sum(1 for r in rules if r.get("id"))),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    if fields.get("active", icp.active if icp else True):
        data["active"] = "on"
    for i, rule in enumerate(rules):
        for key in ["id", "position", "category", "condition", "values", "minimum", "maximum", "signal_type", "days", "points"]:
            data[f"rules-{i}-{key}"] = "" if rule.get(key) is None else str(rule[key])
        if icp is not None:
            data[f"rules-{i}-icp"] = str(icp.pk)
        if rule.get("DELETE"):
            data[f"rules-{i}-DELETE"] = "on"
    return data


@pytest.fixture
def ops_client(client, ops):
    client.force_login(ops.user)
    return client


def test_icp_change_shows_impact_preview_then_saves_audits_and_rescores(ops_client, ops, django_capture_on_commit_callbacks):
    icp = ICPFactory(name="Software")
    rule = RuleFactory(icp=icp, category="fit", condition=C.INDUSTRY_IN, values=["Software"], points=30)
    AccountFactory.create_batch(2, industry="Software")
    AccountFactory(industry="Retail")
    accounts_rescore()
    url = reverse("admin:icps_icp_change", args=[icp.pk])
    data = rule_post(icp, [{"id": rule.pk, "position": 0, "category": "fit", "condition": "industry_in",
                            "values": "Software", "points": 40},
                           {"position": 1, "category": "opportunity", "condition": "industry_in",
                            "values": "Software", "points": 5}])
    response = ops_client.post(url, data)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/icps/icp/impact_preview.html"
    counts = response.context["preview"].counts
    assert counts["C"] == (3, 1) and counts["B"] == (0, 2)
    assert response.context["preview"].moves == {("C", "B"): 2}
    rule.refresh_from_db()
    assert rule.points == 30 and icp.rules.count() == 1  # nothing saved yet
    assert not ICPChange.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(url, {**data, "_confirm_impact": "1"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.points == 40 and icp.rules.count() == 2
    change = ICPChange.objects.get()
    assert change.actor == ops.user and change.action == "update"
    assert change.changes["rules_added"] == ["Industry is one of Software (+5)"]
    assert set(Account.objects.filter(industry="Software").values_list("total_score", "tier")) == {(45, "B")}


def test_invalid_rule_shows_errors_instead_of_a_preview(ops_client):
    response = ops_client.post(
        reverse("admin:icps_icp_add"),
        rule_post(None, [{"position": 0, "category": "readiness", "condition": "signal_count", "points": 5}], name="Bad"),
    )
    assert response.status_code == 200
    assert b"Pick the signal type this rule looks at." in response.content
    assert b"Give the window in days." in response.content
    assert not ICP.objects.exists()


def test_new_icp_preview_and_create(ops_client, django_capture_on_commit_callbacks):
    AccountFactory(industry="Software", segment="enterprise")
    data = rule_post(None, [
        {"position": 0, "category": "qualifier", "condition": "segment_in", "values": "enterprise", "points": 0},
        {"position": 1, "category": "fit", "condition": "industry_in", "values": "Software", "points": 40},
        {"position": 2, "category": "readiness", "condition": "signal_count",
         "signal_type": signal_type("demo_request").pk, "minimum": 1, "days": 30, "points": 30},
    ], name="Enterprise software")
    response = ops_client.post(reverse("admin:icps_icp_add"), data)
    assert response.context["preview"].counts[""] == (1, 0)
    assert response.context["preview"].counts["B"] == (0, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ops_client.post(reverse("admin:icps_icp_add"), {**data, "_confirm_impact": "1"})
    icp = ICP.objects.get(name="Enterprise software")
    assert icp.rules.count() == 3
    assert ICPChange.objects.get().action == "create"
    assert Account.objects.get().matched_icp == icp


def test_signal_admin_add_rescores_and_validates(ops_client):
    icp = ICPFactory()
    RuleFactory(icp=icp, category="readiness", condition=C.SIGNAL_VALUE_AT_LEAST,
                signal_type=signal_type("marketing_score"), minimum=60, points=20)
    account = AccountFactory()
    url = reverse("admin:icps_signal_add")
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    base = {"account": account.pk, "type": signal_type("marketing_score").pk,
            "occurred_at_0": yesterday.strftime("%Y-%m-%d"), "occurred_at_1": yesterday.strftime("%H:%M:%S"),
            "source": "marketo"}
    response = ops_client.post(url, base)
    assert response.status_code == 200 and b"needs a value" in response.content
    response = ops_client.post(url, {**base, "value": "75"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.readiness_score == 20
    signal = Signal.objects.get()
    response = ops_client.post(reverse("admin:icps_signal_delete", args=[signal.pk]), {"post": "yes"})
    account.refresh_from_db()
    assert account.readiness_score == 0


@pytest.mark.parametrize(
    "name", ["icp", "signal", "signaltype", "scorehistory", "icpchange", "researchcategory", "scoringsettings"]
)
def test_changelists_render(ops_client, name):
    SignalFactory()
    ScoringSettings.load()
    assert ops_client.get(reverse(f"admin:icps_{name}_changelist"), follow=True).status_code == 200


def test_account_score_page_and_breakdown(ops_client):
    icp = ICPFactory(name="Marketing tech")
    RuleFactory(icp=icp, category="fit", condition=C.TECHNOLOGY_PRESENT, values=["Marketo"], points=30)
    RuleFactory(icp=icp, category="fit", condition=C.TECHNOLOGY_PRESENT, values=["Eloqua"], points=20)
    account = AccountFactory(technologies=["Marketo", "Eloqua"], name="Acme <script>")
    accounts_rescore()
    account.refresh_from_db()
    html = str(account_score_breakdown(account))
    assert "Uses any of the technologies Marketo" in html and "+30" in html
    assert "cap of 40 reached" in html and "−10" in html
    assert 'data-total="40"' in html
    response = ops_client.get(reverse("admin:icps_account_score", args=[account.pk]))
    assert response.status_code == 200
    assert b"Acme &lt;script&gt;" in response.content
    assert b"Matched ICP <strong>Marketing tech</strong>" in response.content


def test_sdr_cannot_see_the_score_of_an_account_outside_their_book(client, sdr):
    account = AccountFactory()
    client.force_login(sdr.user)
    assert client.get(reverse("admin:icps_account_score", args=[account.pk])).status_code == 404


def test_account_filters():
    icp = ICPFactory()
    RuleFactory(icp=icp, category="qualifier", condition=C.INDUSTRY_IN, values=["Software"], points=0)
    RuleFactory(icp=icp, category="fit", condition=C.INDUSTRY_IN, values=["Software"], points=30)
    RuleFactory(icp=icp, category="readiness", condition=C.INDUSTRY_IN, values=["Software"], points=20)
    a = AccountFactory(industry="Software")
    b = AccountFactory(industry="Retail")
    ICPFactory(name="Other").rules.create(category="qualifier", condition=C.INDUSTRY_IN, values=["Retail"])
    c = AccountFactory(industry="Farming")
    accounts_rescore()
    request = RequestFactory().get("/")
    qs = Account.objects.all()

    def run(filter_class, value):
        f = filter_class(request, {filter_class.parameter_name: [value]}, Account, None)
        return set(f.queryset(request, qs).values_list("pk", flat=True))

    assert run(MatchedICPFilter, str(icp.pk)) == {a.pk}
    assert run(MatchedICPFilter, "none") == {c.pk}
    assert run(TierFilter, "B") == {a.pk}
    assert run(TierFilter, "C") == {b.pk}
    assert run(TierFilter, "none") == {c.pk}
    assert run(QuadrantFilter, "good_place") == {a.pk}
    assert run(QuadrantFilter, "bad_place") == {b.pk}
    categories = list(ResearchCategory.objects.filter(active=True))
    research_items_tick(account=a, categories=categories)
    research_items_tick(account=b, categories=categories[:3])
    assert run(ResearchCompletenessFilter, "complete") == {a.pk}
    assert run(ResearchCompletenessFilter, "incomplete") == {b.pk, c.pk}


def test_research_checklist_ticks_from_an_intelligence_run(sdr):
    from django.core.exceptions import ValidationError

    account = AccountFactory()
    categories = list(ResearchCategory.objects.all())
    assert [c.name for c in categories] == [
        "Company overview", "Business initiatives", "Technology stack", "Org chart and stakeholders",
        "Pain points and triggers", "Recent news",
    ]
    run = ActivityFactory(account=account, type=ActivityType.INTELLIGENCE_RUN, rep=sdr)
    research_items_tick(account=account, categories=categories[:2], actor=sdr.user, activity=run)
    research_items_tick(account=account, categories=categories[:3], actor=sdr.user, activity=run)
    assert account_research_progress(account=account) == (3, 6)
    call = ActivityFactory(account=account, type=ActivityType.CALL)
    with pytest.raises(ValidationError, match="Only an intelligence run"):
        research_items_tick(account=account, categories=categories, activity=call)
    categories[5].active = False
    categories[5].save()
    assert account_research_progress(account=account) == (3, 5)


def test_deleting_an_icp_is_audited_and_unmatches_its_accounts(ops_client, ops, django_capture_on_commit_callbacks):
    icp = ICPFactory(name="Doomed")
    RuleFactory(icp=icp, points=20)
    account = AccountFactory()
    accounts_rescore()
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(reverse("admin:icps_icp_delete", args=[icp.pk]), {"post": "yes"})
    assert response.status_code == 302
    change = ICPChange.objects.get()
    assert (change.action, change.icp_name, change.icp, change.actor) == ("delete", "Doomed", None, ops.user)
    assert change.changes["rules_removed"] == ["Industry is one of Software (+20)"]
    account.refresh_from_db()
    assert (account.matched_icp, account.tier, account.total_score) == (None, "", 0)
    assert account.score_history.first().old_tier == "C"


def test_logging_an_intelligence_run_on_the_score_page_ticks_research(client, sdr):
    from apps.accounts.models import Activity
    from apps.accounts.services import account_set_owner

    account = AccountFactory()
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    client.force_login(sdr.user)
    url = reverse("admin:icps_account_score", args=[account.pk])
    overview, stack = ResearchCategory.objects.filter(name__in=["Company overview", "Technology stack"]).order_by("position")
    response = client.post(url, {"_intelligence_run": "1", "category": [overview.pk, stack.pk]})
    assert response.status_code == 302
    run = Activity.objects.get(account=account)
    assert (run.type, run.rep) == (ActivityType.INTELLIGENCE_RUN, sdr)
    assert set(account.research_items.values_list("category", "activity", "done_by")) == {
        (overview.pk, run.pk, sdr.user.pk), (stack.pk, run.pk, sdr.user.pk)
    }
    page = client.get(url).content.decode()
    assert "Research checklist (2/6)" in page
    response = client.post(url, {"_intelligence_run": "1"}, follow=True)
    assert "Tick at least one research category" in response.content.decode()
    assert Activity.objects.count() == 1
