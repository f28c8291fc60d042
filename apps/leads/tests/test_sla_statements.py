"""Issue 16 target 3: the SLA check re-assigns a cycle in at most 6 statements (lock the cycle
with its account, the rule, the rotation, the owner change, the routing decision, and one
statement for the breach, the cycle's new clock, its event and the cadence hand-over), writes
every reminder of a run in one statement, reads each team's loads once per run, and does not
route a lead routing could only record as unmatched."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import account_set_owner
from apps.cadences.follow_ups import follow_up_create
from apps.cadences.models import Enrolment, FollowUpTaskEvent
from apps.cadences.tests.factories import cadence_with_steps
from apps.leads.models import LeadCycle, LeadCycleEvent, SlaBreach, SlaPolicy
from apps.leads.services import lead_cycle_open, lead_cycles_sla_enforce
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.routing.models import RoutingDecision, Strategy
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
N = 4


def data_statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(CONTROL)]


def open_leads(rep, n, **contact):
    with time_machine.travel(T0, tick=False):
        for _ in range(n):
            c = ContactFactory(**contact)
            if c.account_id:
                account_set_owner(account=c.account, to_rep=rep, reason="distribution")
            lead_cycle_open(contact=c, rep=rep)


def run(at):
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as ctx:
        outcomes = lead_cycles_sla_enforce()
    return outcomes, data_statements(ctx)


def warm_caches(sdr):
    """One run over one lead, as the worker's previous runs did (configuration caches)."""
    open_leads(sdr, 1)
    run(T0 + dt.timedelta(days=2))


@pytest.mark.parametrize("strategy", [None, *Strategy.values])
def test_reassigning_past_the_maximum_costs_at_most_6_statements_a_cycle(sdr, team, strategy):
    mates = [RepFactory(role=Rep.Role.SDR, team=team) for _ in range(2)]
    if strategy:
        rule_with([sdr, *mates], strategy=strategy)
    warm_caches(sdr)
    open_leads(sdr, N)
    outcomes, statements = run(T0 + dt.timedelta(days=2, minutes=5))
    assert outcomes == {"reassigned": N}
    # Per run: the scan for due cycles (+ the team loads when no rule picks). Per cycle, in
    # every strategy: the lock, the rule's members, the owner change, the follow-up move,
    # the decision (with a rotation's weight ledger in the same statement) and the breach
    # with the cycle's new clock, its event and the cadence hand-over.
    per_run = 2 if strategy in (None, Strategy.QUEUE) else 1  # a claim queue never takes an SLA lead: the fallback
    assert len(statements) <= per_run + 6 * N, "\n".join(s[:150] for s in statements)
    assert LeadCycle.objects.filter(rep__in=mates, reassignment_count=1).count() == N + 1  # with the warm-up lead
    assert SlaBreach.objects.filter(kind="maximum", reassigned_to__in=mates).count() == N + 1


@pytest.mark.parametrize("strategy", [None, Strategy.WEIGHTED_ROUND_ROBIN])
def test_leave_reassignment_is_the_same_write_within_the_same_budget(sdr, team, strategy):
    """Re-assign on leave goes through the escalation's one-statement write (no breach):
    the cycle's new clock, its REASSIGNED event with who (the system) and why, the cadence
    enrolment and the account's follow-up tasks handed over — at most 6 statements a cycle."""
    mates = [RepFactory(role=Rep.Role.SDR, team=team) for _ in range(2)]
    if strategy:
        rule_with([sdr, *mates], strategy=strategy)
    SlaPolicy.objects.update(on_leave=SlaPolicy.OnLeave.REASSIGN)  # before the warm-up: it moves the cache version
    warm_caches(sdr)
    open_leads(sdr, N)
    cadence = cadence_with_steps()
    cycles = list(LeadCycle.objects.filter(rep=sdr, reassignment_count=0).select_related("contact"))
    for cycle in cycles:
        Enrolment.objects.create(contact=cycle.contact, cadence=cadence, rep=sdr, lead_cycle=cycle)
        follow_up_create(rep=sdr, contact=cycle.contact, title="Call back", due_at=T0 + dt.timedelta(days=3))
    Rep.objects.filter(pk=sdr.pk).update(out_of_office_from=dt.date(2026, 3, 2))
    at = T0 + dt.timedelta(minutes=30)
    outcomes, statements = run(at)
    assert outcomes == {"reassigned": N}
    assert len(statements) <= (1 if strategy else 2) + 6 * N, "\n".join(s[:150] for s in statements)
    for cycle in cycles:
        cycle.refresh_from_db()
        assert cycle.rep in mates and cycle.assigned_at == at and cycle.reassignment_count == 1
        event = cycle.events.get(kind=LeadCycleEvent.Kind.REASSIGNED)
        assert (event.from_rep, event.to_rep, event.actor, event.occurred_at) == (sdr, cycle.rep, None, at)
        assert event.note == "Rep out of office (SLA policy: re-assign on leave)"
        assert Enrolment.objects.get(contact=cycle.contact).rep == cycle.rep
        moved = FollowUpTaskEvent.objects.get(task__contact=cycle.contact, kind=FollowUpTaskEvent.Kind.MOVED)
        assert (moved.from_rep, moved.to_rep, moved.task.rep, moved.note) == (
            sdr, cycle.rep, cycle.rep, "account changed owner")
    assert not SlaBreach.objects.filter(cycle__in=cycles).exists()  # the away rep breached nothing


def test_partner_ae_reassignment_reads_the_owners_ae_partners_with_the_rule(sdr, team):
    """"Partner AE" also needs the owner SDR's AE partners: they come with the rule's members
    (one statement), so this strategy too stays within 6 a cycle — and the lead reaches the partner."""
    mates = [RepFactory(role=Rep.Role.SDR, team=team) for _ in range(2)]
    partner = RepFactory(role=Rep.Role.AE, team=team, owner_name="Paula Partner")
    sdr.ae_partners.add(partner)
    rule_with([sdr, *mates], strategy=Strategy.PARTNER_AE)
    warm_caches(sdr)
    open_leads(sdr, N)
    outcomes, statements = run(T0 + dt.timedelta(days=2, minutes=5))
    assert outcomes == {"reassigned": N}
    assert len(statements) <= 1 + 6 * N, "\n".join(s[:150] for s in statements)
    assert LeadCycle.objects.filter(rep=partner, reassignment_count=1).count() == N + 1  # with the warm-up lead


def test_reminders_of_a_run_are_one_statement(sdr):
    warm_caches(sdr)
    open_leads(sdr, N)
    outcomes, statements = run(T0 + dt.timedelta(hours=2))
    assert outcomes == {"reminded": N}
    assert len(statements) == 2, statements  # the scan, INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING
    outcomes, statements = run(T0 + dt.timedelta(hours=3))
    assert outcomes == {} and len(statements) == 1


def test_fallback_picks_see_the_moves_of_the_same_run(sdr, team):
    """Loads are read once per run, then kept current: four leads spread over two teammates
    as four fresh counts would spread them."""
    mates = [RepFactory(role=Rep.Role.SDR, team=team) for _ in range(2)]
    open_leads(sdr, N)
    outcomes, _ = run(T0 + dt.timedelta(days=2))
    assert outcomes == {"reassigned": N}
    assert sorted(LeadCycle.objects.filter(rep__in=mates).values_list("rep_id", flat=True)) == sorted(
        [mates[0].pk, mates[1].pk] * 2
    )


def test_a_webmail_lead_without_account_is_not_routed_first(sdr, team):
    mate = RepFactory(role=Rep.Role.SDR, team=team)
    open_leads(sdr, 1, account=None, email="someone@gmail.com")
    outcomes, _ = run(T0 + dt.timedelta(days=2))
    assert outcomes == {"reassigned": 1}
    assert LeadCycle.objects.get().rep == mate
    assert not RoutingDecision.objects.filter(outcome="unmatched").exists()
