"""The report benchmark's bulk organisation (apps.reporting.bench_seed) at a tiny size: the
model's constraints hold (checked immediately, deferred foreign keys included), the rollup
triggers kept every rollup through the bulk statements, each bulk cycle's SLA clock is what the
services compute, and every report page answers with numbers for ops and for a manager."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Account, Activity, OwnershipEvent
from apps.leads.models import LeadCycle, SlaBreach
from apps.leads.services.sla_clock import lead_cycle_response_time, sla_clock_start
from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Contact, Rep
from apps.reporting.bench_seed import BASE_ACCOUNTS, bench_organisation_seed
from apps.reporting.reports import REPORTS
from apps.reporting.rollups import rollups_check
from apps.routing.models import ReturnRequest, RoutingDecision

pytestmark = pytest.mark.django_db
ACCOUNTS = 300


@pytest.fixture(scope="module")
def bench_organisation(django_db_setup, django_db_blocker):
    """Seeded once for the module in a transaction rolled back after it. The seed's random
    choices hash row ids: the tables start from id 1 (earlier tests' rolled-back rows used up
    sequence values), as in a fresh bench database, so the organisation is the same in any order."""
    with django_db_blocker.unblock(), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE accounts_account, people_contact, people_leadcycle, people_rep, people_team, "
                           "accounts_activity, auth_user RESTART IDENTITY CASCADE")
        result = bench_organisation_seed(accounts=ACCOUNTS, seed=3, days=365)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign keys checked now
        yield result
        transaction.set_rollback(True)


def test_the_bulk_organisation_has_the_demo_shape_and_kept_rollups(bench_organisation):
    assert Account.objects.count() == ACCOUNTS
    base = min(BASE_ACCOUNTS, ACCOUNTS // 2)  # made by seed_demo
    bulk = Account.objects.filter(pk__gt=Account.objects.order_by("pk")[base - 1].pk)
    assert bench_organisation["rows"]["accounts"] == bulk.count() == ACCOUNTS - base
    roles = dict(Rep.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {"sdr": 10, "ae": 5, "manager": 2, "ops": 1}
    assert get_user_model().objects.filter(username__in=["ops", "manager.east"]).count() == 2
    owned = bulk.filter(owner__isnull=False)
    assert 0.35 < owned.count() / bulk.count() < 0.65 and not owned.filter(status="disqualified").exists()
    assert OwnershipEvent.objects.filter(account__in=owned).count() == owned.count()
    assert set(bulk.values_list("tier", flat=True)) >= {"B", "C"}  # scored by the real service
    per_account = Contact.objects.filter(account__in=bulk).count() / bulk.count()
    assert 2.5 < per_account < 3.7
    cycles = LeadCycle.objects.filter(contact__account__in=bulk)
    states = dict(cycles.values_list("state").annotate(n=Count("id")))
    assert set(states) == {"assigned", "working", "dispositioned"}
    dispositions = set(cycles.values_list("disposition", flat=True))
    assert dispositions >= {"qualified", "nurture", "unqualified"}
    qualified = cycles.filter(disposition="qualified")
    assert qualified.filter(is_sql=True).count() == qualified.count() > 0  # flags kept by the meeting triggers
    assert Meeting.objects.filter(lead_cycle__in=qualified, status="completed_qualified").count() == qualified.count()
    assert Opportunity.objects.filter(source_meeting__lead_cycle__in=qualified).count() == qualified.count()
    assert Activity.objects.filter(account__in=owned).count() >= 3 * owned.count()
    assert SlaBreach.objects.filter(cycle__in=cycles).exists() and RoutingDecision.objects.filter(contact__account__in=bulk).exists()
    assert ReturnRequest.objects.exists()
    # The triggers kept every rollup through the bulk statements: no rebuild was needed.
    assert bench_organisation["trigger_differences"] == [] and rollups_check() == []
    call_command("rebuild_report_rollups", "--check")  # raises CommandError on a difference
    # The SLA clock written set-based equals the services' computation.
    for cycle in cycles.select_related("rep").order_by("pk")[:40]:
        deadlines = (cycle.sla_policy_id, cycle.sla_target_at, cycle.sla_maximum_at, cycle.response_time)
        sla_clock_start(cycle)
        assert deadlines == (cycle.sla_policy_id, cycle.sla_target_at, cycle.sla_maximum_at,
                             lead_cycle_response_time(cycle=cycle))


def _numbers(result) -> list:
    return [value for table in result.tables for row in [*table.rows, table.total or {}]
            for value in row.values() if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value]


@pytest.mark.parametrize("username", ["ops", "manager.east"])
def test_every_report_page_answers_with_numbers(bench_organisation, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    today = timezone.localdate()
    query = {"date_from": (today - timezone.timedelta(days=364)).isoformat(), "date_to": today.isoformat()}  # the whole history
    sdr = Rep.objects.filter(role="sdr", team__name="East").order_by("pk").first()
    for slug, report in REPORTS.items():
        params = {**query, "rep": sdr.pk} if slug == "scorecard" else (query if report.uses_dates else {})
        response = client.get(reverse("admin:report", args=[slug]), params, HTTP_HOST="localhost")
        assert response.status_code == 200, slug
        assert _numbers(response.context["result"]), f"{slug} as {username} shows no numbers"
