"""The demo tells the truth: funnels around the target with differences between SDRs,
a tier mix, a pipeline with amounts, work waiting for every role, and no schedule due at the
first start. Also what seed_demo promises (apps/people/tests had these; one seeded organisation
for both saves a demo load per run)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django_q.models import Schedule

from apps.accounts.models import Account, Activity, DomainAlias, OwnershipEvent
from apps.campaigns.alarms import alarms_raise
from apps.campaigns.models import Alarm, Campaign, CampaignInteraction
from apps.leads.models import LeadCycle, SlaBreach
from apps.meetings.defaults import meetings_defaults_ensure
from apps.meetings.models import Meeting, Opportunity, RescheduleAttempt
from apps.people.models import Contact, Rep, Team
from apps.routing.models import ReturnRequest, RoutingDecision, RoutingRule
from apps.workspace.page_speed import CHANGELISTS, WORKSPACE_PAGES, page_walk
from sdrops.management.commands.seed_demo import USERS_DOC
from sdrops.schedules import schedules_sync

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_blocker, django_db_setup):
    """One demo load for the module's assertions (it takes a while)."""
    with django_db_blocker.unblock():
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


# -- seed_demo: what the command promises ------------------------------------------------

def snapshot():
    return (
        list(Account.objects.order_by("domain").values_list("name", "domain", "segment", "status", "owner__owner_name")),
        list(Contact.objects.order_by("email").values_list("email", "buying_role")),
        Activity.objects.count(),
    )


def test_seed_demo_builds_the_organisation(demo):
    assert Team.objects.count() == 2 and all(t.manager for t in Team.objects.all())
    roles = dict(Rep.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {"sdr": 10, "ae": 5, "manager": 2, "ops": 1}
    sdrs = Rep.objects.filter(role="sdr")
    assert sum(1 for s in sdrs if s.ramp_factor() < 1) == 2
    assert sum(1 for s in sdrs if s.is_out_of_office()) == 1
    assert all(s.ae_partners.exists() for s in sdrs)
    assert Account.objects.count() == 300
    owned = Account.objects.filter(owner__isnull=False).count()
    assert 100 < owned < 200
    # Owners come from the import; the demo's later flows (claims, swaps) move a few more.
    assert owned - 5 <= OwnershipEvent.objects.filter(reason="import").count() <= owned + 5
    latest = {e.account_id: e.to_rep_id for e in OwnershipEvent.objects.order_by("occurred_at", "pk")}
    assert all(latest.get(pk) == owner for pk, owner in Account.objects.filter(owner__isnull=False).values_list("pk", "owner_id"))
    assert DomainAlias.objects.exists()
    assert 2 <= Contact.objects.count() / 300 <= 4
    assert Activity.objects.filter(automated=True).exists() and Activity.objects.filter(automated=False).exists()
    assert LeadCycle.objects.exists()
    assert Campaign.objects.filter(name="Webinar: pipeline math").exists()
    assert CampaignInteraction.objects.filter(lead_cycle__isnull=False).count() == LeadCycle.objects.exclude(campaign="").count()
    assert RoutingRule.objects.filter(members__isnull=False).distinct().count() == 2
    user = get_user_model().objects.get(username="sdr1")
    assert user.check_password("sdrops-demo") and user.groups.filter(name="SDR").exists()
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", "--accounts", "300", "--seed", "11")


def test_seed_demo_is_deterministic(demo):
    """The same seed builds the same organisation. On a small one, twice (a 300-account reseed
    took 45 s); the test's savepoint puts the module's demo back afterwards."""
    quiet = open("/dev/null", "w")  # noqa: SIM115
    call_command("seed_demo", "--accounts", "40", "--seed", "5", "--reset", stdout=quiet)
    first = snapshot()
    assert len(first[0]) == 40 and first[1]
    call_command("seed_demo", "--accounts", "40", "--seed", "5", "--reset", stdout=quiet)
    assert snapshot()[:2] == first[:2]


def test_every_printed_demo_login_works(client, demo):
    for username, _ in USERS_DOC:
        client.logout()
        response = client.post(
            "/admin/login/?next=/admin/", {"username": username, "password": settings.DEMO_PASSWORD, "next": "/admin/"}
        )
        assert response.status_code == 302 and response.url == "/admin/", username
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/accounts/account/").status_code == 200, username


def test_demo_has_meetings_in_every_state_an_admin_should_see(demo):
    statuses = set(Meeting.objects.values_list("status", flat=True))
    assert {"scheduled", "completed_qualified", "no_show"} <= statuses
    now = timezone.now()
    assert Meeting.objects.filter(status="scheduled", scheduled_at__gt=now).exists()  # still to come
    assert Meeting.objects.filter(status="scheduled", disposition_due_at__lt=now).exists()  # overdue
    assert all(o.sourcing_sdr_id for o in Opportunity.objects.all()) and Opportunity.objects.exists()
    assert RescheduleAttempt.objects.filter(state="open").exists()
