"""The demo tells the truth: funnels around the target with differences between SDRs,
a tier mix, a pipeline with amounts, work waiting for every role, and no schedule due at the
first start."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.accounts.models import Account
from apps.leads.models import LeadCycle, SlaBreach
from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Rep
from apps.routing.models import ReturnRequest, RoutingDecision
from apps.workspace.page_speed import CHANGELISTS, WORKSPACE_PAGES, page_walk

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_blocker, django_db_setup):
    """One demo load for the module's assertions (it takes a while)."""
    with django_db_blocker.unblock():
        from django.db import transaction

        from apps.meetings.defaults import meetings_defaults_ensure

        atomic = transaction.atomic()
        atomic.__enter__()
        meetings_defaults_ensure()
        call_command("seed_demo", "--accounts", "300", "--seed", "11", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def test_funnel_is_around_the_target_with_reps_above_and_below(demo):
    qualified = Meeting.objects.filter(status=Meeting.Status.COMPLETED_QUALIFIED, lead_cycle_id__isnull=False)
    by_rep = (LeadCycle.objects.filter(rep__role=Rep.Role.SDR).values("rep_id")
              .annotate(mql=Count("pk"), sql=Count("pk", filter=Q(pk__in=qualified.values("lead_cycle_id")))))
    rates = [row["sql"] / row["mql"] for row in by_rep if row["mql"] >= 10]
    total = sum(r["sql"] for r in by_rep) / sum(r["mql"] for r in by_rep)
    assert 0.15 <= total <= 0.35, total
    assert min(rates) < 0.2 and max(rates) > 0.28, rates  # some below the warning line, some above target


def test_the_funnel_per_sdr_lists_only_sdrs(demo, client):
    # Routing may hand a lead to the AE who owns the account's open opportunity; that AE's
    # cycle is no SDR's row (apps.reporting.selectors.merge_by_rep).
    client.force_login(Rep.objects.get(user__username="manager.east").user)
    html = client.get("/admin/reports/team-dashboard/").content.decode()
    funnel = html[html.index('id="table-funnel"'):]
    funnel = funnel[:funnel.index("</table>")]
    for rep in Rep.objects.exclude(role=Rep.Role.SDR):
        assert rep.owner_name not in funnel, rep
    assert sum(1 for rep in Rep.objects.filter(role=Rep.Role.SDR, team__name="East") if rep.owner_name in funnel) == 5


def test_the_pipeline_has_amounts(demo):
    pipeline = Opportunity.objects.filter(pipeline_at__isnull=False)
    assert pipeline.count() >= 20
    assert pipeline.filter(amount__isnull=True).count() == 0
    assert pipeline.aggregate(total=Sum("amount"))["total"] > 100_000


def test_tier_mix_is_realistic(demo):
    tiers = dict(Account.objects.values_list("tier").annotate(n=Count("pk")))
    scored = sum(tiers.get(t, 0) for t in "ABC")
    assert tiers.get("A", 0) / scored >= 0.04, tiers
    assert tiers.get("B", 0) / scored >= 0.15, tiers
    assert tiers.get("C", 0) / scored >= 0.3, tiers


def test_every_role_has_work_waiting(demo):
    now = timezone.now()
    assert ReturnRequest.objects.filter(status=ReturnRequest.Status.PENDING).count() >= 3
    ae1 = Rep.objects.get(user__username="ae1")
    assert Meeting.objects.filter(ae=ae1, status=Meeting.Status.SCHEDULED, scheduled_at__lt=now).exists()
    assert SlaBreach.objects.filter(kind=SlaBreach.Kind.MAXIMUM).exists()
    assert RoutingDecision.objects.filter(outcome="unmatched", resolved_at__isnull=True).exists()
    sdr1 = Rep.objects.get(user__username="sdr1")
    assert LeadCycle.objects.filter(rep=sdr1, state=LeadCycle.State.ASSIGNED).exists()


def test_first_start_replays_no_schedule(demo):
    """Every job's first run lies ahead of the moment it is scheduled, so a cluster starting on
    a fresh install (the demo's included) replays nothing. Checked at one instant: comparing
    with the clock after seeding made the every-minute sweeps due whenever the seed took over a
    minute (a loaded machine), which says nothing about the schedules."""
    from django_q.models import Schedule

    from sdrops.schedules import schedules_sync

    assert Schedule.objects.exists()
    Schedule.objects.all().delete()
    before = timezone.now()
    rows = schedules_sync()
    assert rows and not [row.name for row in rows if row.next_run is None or row.next_run <= before]


# -- page work: each role's daily pages, on the demo organisation -------------------------

# How fast these pages render against their own SQL time (issue 17 item 6: at most 3×) is
# measured by `make bench` (apps/workspace/benchmarks.py, one run with its yardstick, written to
# docs/benchmarks.md): a ratio of two timings is a benchmark, not a test. The test holds what
# does not depend on the machine: every page answers, within a bounded number of queries.


def test_daily_pages_run_a_bounded_number_of_queries(demo, client):
    account = Account.objects.filter(owner__user__username="sdr1").order_by("pk").first()
    rows = list(page_walk(client, WORKSPACE_PAGES, account, samples=1))
    # 25 before the record page showed coverage × engagement, the market segment and follow-ups.
    assert not [row for row in rows if row.queries > 28], [row.line() for row in rows]


def test_daily_changelists_run_a_bounded_number_of_queries(demo, client):
    account = Account.objects.filter(owner__user__username="sdr1").order_by("pk").first()
    rows = list(page_walk(client, CHANGELISTS, account, samples=1))
    # The team dashboard among them: 20 before its attainment table and weekly comparison.
    assert not [row for row in rows if row.queries > 22], [row.line() for row in rows]


def test_the_alarms_on_a_fresh_demo_are_a_handful_per_team(demo):
    """Issue 17 item 4 meets issue 19 item 5: the demo's AEs close the deals that never reach
    the pipeline and keep the open ones warm (apps.meetings.demo_deals), so the first alarm run
    leaves each manager a few of each kind to try, not dozens; a second run raises nothing new."""
    from apps.campaigns.alarms import alarms_raise
    from apps.campaigns.models import Alarm

    now = timezone.now()
    first = alarms_raise(now=now)
    per_team = {
        (manager, kind): Alarm.objects.filter(manager__user__username=manager, kind=kind).count()
        for manager in ("manager.east", "manager.west") for kind in (Alarm.Kind.SAO_DARK, Alarm.Kind.IQM_PENDING)
    }
    print(first, per_team)
    assert all(1 <= n <= 5 for n in per_team.values()), per_team
    assert Alarm.objects.count() == sum(first.values()) <= 16, first  # cherry-picking and field history: a few too
    assert not any(alarms_raise(now=now).values())
