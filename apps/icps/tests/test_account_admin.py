"""The scoring pieces wired into the account admin (apps/accounts/admin.py)."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from apps.accounts.models import Account
from apps.accounts.tests.factories import AccountFactory
from apps.icps.demo import icps_demo_create
from apps.icps.models import ICP, ResearchCategory, Rule, Signal
from apps.icps.selectors import account_score_explain
from apps.icps.services import accounts_rescore, research_items_tick
from apps.icps.tests.factories import ICPFactory, RuleFactory, SignalFactory, signal_type

pytestmark = pytest.mark.django_db
C = Rule.Condition


@pytest.fixture
def ops_client(client, ops):
    client.force_login(ops.user)
    return client


@pytest.fixture
def software_icp():
    icp = ICPFactory(name="Software")
    RuleFactory(icp=icp, category="qualifier", condition=C.INDUSTRY_IN, values=["Software", "Fintech"], points=0)
    RuleFactory(icp=icp, category="fit", condition=C.EMPLOYEES_BETWEEN, minimum=100, points=30)
    RuleFactory(icp=icp, category="readiness", condition=C.SIGNAL_COUNT, signal_type=signal_type("demo_request"),
                minimum=1, days=30, points=20)
    return icp


def test_account_page_shows_breakdown_signals_history_and_research(ops_client, software_icp):
    account = AccountFactory(industry="Software", employees=500)
    SignalFactory(account=account, type=signal_type("demo_request"), source="web form")
    accounts_rescore()
    research_items_tick(account=account, categories=list(ResearchCategory.objects.all()[:2]))
    response = ops_client.get(reverse("admin:accounts_account_change", args=[account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Employees between 100 and …" in html and "+30" in html
    assert "The Good Place" in html
    assert "web form" in html  # the signal inline
    assert "2/6" in html
    assert "score history" in html.lower()


def test_saving_an_account_in_the_admin_rescores_it_and_ticks_research(ops_client, ops, software_icp):
    account = AccountFactory(industry="Retail", employees=500, name="Shop")
    accounts_rescore()
    account.refresh_from_db()
    assert account.matched_icp is None
    url = reverse("admin:accounts_account_change", args=[account.pk])
    context = ops_client.get(url).context
    data = {k: v for k, v in context["adminform"].form.initial.items() if v is not None and not isinstance(v, list | dict)}
    data.update({"name": "Shop", "industry": "Fintech", "technologies": "", "segment": account.segment,
                 "status": account.status, "employees": "500"})
    for inline in context["inline_admin_formsets"]:
        data.update({f"{inline.formset.prefix}-{k}": v for k, v in inline.formset.management_form.initial.items()})
    overview = ResearchCategory.objects.get(name="Company overview")
    data.update({"research_items-TOTAL_FORMS": "1", "research_items-0-category": str(overview.pk),
                 "research_items-0-done_at_0": "2026-01-05", "research_items-0-done_at_1": "10:00:00"})
    response = ops_client.post(url, data)
    assert response.status_code == 302, [f.errors for f in response.context["inline_admin_formsets"]]
    account.refresh_from_db()
    assert account.matched_icp == software_icp and account.total_score == 30
    assert account.research_items.get().done_by == ops.user


def test_account_changelist_filters_and_sorts_by_score(ops_client, software_icp, django_assert_max_num_queries):
    AccountFactory.create_batch(3, industry="Software", employees=500)
    AccountFactory.create_batch(2, industry="Retail")
    accounts_rescore()
    url = reverse("admin:accounts_account_changelist")
    for query in ["", "?tier=C", f"?icp={software_icp.pk}", "?icp=none", "?quadrant=get_back_to_me",
                  "?research=incomplete", "?o=-8"]:
        response = ops_client.get(url + query)
        assert response.status_code == 200, query
    assert ops_client.get(url + "?tier=C").context["cl"].result_count == 3
    assert ops_client.get(url + "?icp=none").context["cl"].result_count == 2
    assert ops_client.get(url + "?research=complete").context["cl"].result_count == 0
    with django_assert_max_num_queries(25):
        ops_client.get(url + "?tier=C")


def test_demo_icps_score_the_demo_accounts():
    AccountFactory.create_batch(20, industry="Software", employees=400, segment="mid_market", region="NA",
                                technologies=["Salesforce", "Marketo"])
    AccountFactory.create_batch(10, industry="Retail", employees=50, segment="smb")
    created = icps_demo_create(rng=random.Random(3), signal_share=0.5)
    assert ICP.objects.count() == 2 and Signal.objects.count() == created > 0
    assert not Account.objects.filter(matched_icp__isnull=True).exists()
    for account in Account.objects.all():
        assert account_score_explain(account=account).total == account.total_score
    icps_demo_create(rng=random.Random(4))
    assert ICP.objects.count() == 2
