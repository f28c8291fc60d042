"""Nurture as a program, through the real scheduled task: a lost deal sends its account's open
leads to nurture (the event says who and why), nurtured leads enter the program their reason
maps to, and on their date are recycled — a new cycle routed by the rules, fresh clock, the
program's cadence. Every step safe to run twice."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django_q.models import Schedule

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.cadences.models import Enrolment
from apps.cadences.tests.factories import cadence_with_steps
from apps.campaigns.models import NurtureEntry, NurtureProgram, NurtureReasonProgram
from apps.leads.models import DispositionReason, LeadCycle, LeadCycleEvent
from apps.leads.services import lead_cycle_disposition, lead_cycle_open
from apps.meetings.models import OpportunityEvent, OpportunityStage
from apps.people.tests.factories import ContactFactory
from apps.reporting.tests.conftest import make_opportunity

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TASK = "apps.campaigns.tasks.nurture_run_task"


def run_at(run_task, when):
    with time_machine.travel(when, tick=False):
        return run_task(TASK)


@pytest.fixture
def acme(sdr):
    account = AccountFactory(domain="acme.com", name="Acme")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    return account


def open_lead(account, rep, at=T0, **kwargs):
    contact = ContactFactory(account=account, **kwargs)
    with time_machine.travel(at, tick=False):
        return lead_cycle_open(contact=contact, rep=rep)


def test_the_job_is_declared_in_code():
    row = Schedule.objects.get(name="campaigns.nurture_run")
    assert (row.func, row.schedule_type, row.minutes) == (TASK, "I", 15)


def test_lost_deal_nurtures_the_accounts_open_leads_once_with_who_and_why(run_task, acme, sdr, ae, ops):
    working = open_lead(acme, sdr)
    LeadCycle.objects.filter(pk=working.pk).update(state="working", first_touch_at=T0, worked_at=T0)
    assigned = open_lead(acme, sdr)
    done = open_lead(acme, sdr)
    with time_machine.travel(T0, tick=False):
        lead_cycle_disposition(cycle=done, disposition="nurture",
                               reason=DispositionReason.objects.get(label="Rep-abandoned"), actor=sdr.user)
    elsewhere = open_lead(AccountFactory(domain="other.io"), sdr)
    opp = make_opportunity(account=acme, owner=ae, sourcing_sdr=sdr, stage="closed_lost", created_at=T0)
    opp.closed_lost_reason = "price"
    opp.closed_at = T0 + dt.timedelta(days=1)
    opp.save()
    OpportunityEvent.objects.create(opportunity=opp, kind="stage", to_stage=OpportunityStage.objects.get(code="closed_lost"),
                                    actor=ae.user, occurred_at=T0 + dt.timedelta(days=1))

    counts = run_at(run_task, T0 + dt.timedelta(days=1, minutes=15))
    # Two open leads nurtured by the lost deal; those two and the rep-abandoned one enter programs.
    assert counts == {"lost_opportunities": 1, "to_nurture": 2, "entered": 3}
    for cycle in (working, assigned):
        cycle.refresh_from_db()
        assert (cycle.state, cycle.disposition, cycle.disposition_reason, cycle.dispositioned_by_system) == (
            "dispositioned", "nurture", "Opportunity lost", True)
        event = cycle.events.get(kind=LeadCycleEvent.Kind.DISPOSITIONED)
        assert event.note == f"Opportunity “{opp.name}” closed lost (Price) by {ae.user.username}"
    elsewhere.refresh_from_db()
    assert elsewhere.state == "assigned"
    assert run_at(run_task, T0 + dt.timedelta(days=1, minutes=30)) == {}  # nothing twice
    assert NurtureEntry.objects.count() == 3
    entries = {e.cycle_id: e for e in NurtureEntry.objects.select_related("program")}
    assert entries[working.pk].program.name == "Recycle after a lost deal (90 days)"
    assert entries[working.pk].recycle_due_at == T0 + dt.timedelta(days=1 + 90, minutes=15)
    assert entries[done.pk].program.name == "Recycle to outbound after 6 months"


def test_recycle_on_the_programs_date_opens_a_routed_cycle_with_a_fresh_clock(run_task, acme, sdr):
    cadence = cadence_with_steps(lead_type="outbound", name="Nurture return")
    program = NurtureProgram.objects.create(name="Budget next year", recycle_after_days=30, recycle_lead_type="outbound",
                                            cadence=cadence)
    reason = DispositionReason.objects.create(disposition="nurture", label="Budget next fiscal year")
    NurtureReasonProgram.objects.create(reason=reason, program=program)
    first = open_lead(acme, sdr)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        lead_cycle_disposition(cycle=first, disposition="nurture", reason=reason, actor=sdr.user)
    assert run_at(run_task, T0 + dt.timedelta(hours=3)) == {"entered": 1}
    assert run_at(run_task, T0 + dt.timedelta(days=29)) == {}  # not due yet

    due = T0 + dt.timedelta(days=30, hours=2, minutes=5)
    assert run_at(run_task, due) == {"recycled": 1}
    assert run_at(run_task, due + dt.timedelta(minutes=15)) == {}  # safe to run twice
    entry = NurtureEntry.objects.get(cycle=first)
    new = entry.new_cycle
    assert (entry.state, entry.recycled_at) == ("recycled", due)
    assert (new.number, new.rep, new.lead_type, new.assigned_at, new.state) == (2, sdr, "outbound", due, "assigned")
    assert new.events.get(kind="assigned").note.startswith(
        "recycled from nurture: Budget next year (Budget next fiscal year), after 30 days")
    assert Enrolment.objects.get(contact=first.contact, state="active").cadence == cadence


def test_a_lead_back_before_its_date_is_not_recycled_again(run_task, acme, sdr):
    reason = DispositionReason.objects.get(label="Rep-abandoned")
    first = open_lead(acme, sdr)
    with time_machine.travel(T0, tick=False):
        lead_cycle_disposition(cycle=first, disposition="nurture", reason=reason, actor=sdr.user)
    run_at(run_task, T0 + dt.timedelta(minutes=15))
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        lead_cycle_open(contact=first.contact, rep=sdr)  # an inbound came back by itself
    assert run_at(run_task, T0 + dt.timedelta(days=181)) == {"recycled": 1}
    assert NurtureEntry.objects.get(cycle=first).state == "already_back"
    assert LeadCycle.objects.filter(contact=first.contact).count() == 2
