"""Leave that costs nobody (issue 18): the SLA policy decides what happens to the leads a rep
already holds while out of office — the clock pauses, or the lead is re-assigned at once."""

import datetime as dt

import pytest
import time_machine

from apps.accounts.models import OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.leads.models import LeadCycle, SlaBreach, SlaPolicy
from apps.leads.services import lead_cycle_open
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday; the inbound target is 2 hours


def sla_check(run_task, at):
    with time_machine.travel(at, tick=False):
        return run_task("apps.leads.tasks.lead_sla_check")


def held_lead(rep):
    contact = ContactFactory()
    account_set_owner(account=contact.account, to_rep=rep, reason="distribution")
    with time_machine.travel(T0, tick=False):
        return lead_cycle_open(contact=contact, rep=rep)


def test_pause_holds_the_clock_through_the_leave(sdr, run_task):
    """Assigned Monday 10:00, target 12:00; Sam is out Monday and Tuesday (until Wednesday
    00:00). The whole 38 hours from assignment to return are paused, so the 2 hours left run
    from Wednesday 00:00: the reminder comes at 02:00, not on Monday at noon."""
    cycle = held_lead(sdr)
    Rep.objects.filter(pk=sdr.pk).update(out_of_office_from=dt.date(2026, 3, 2), out_of_office_to=dt.date(2026, 3, 3))
    assert sla_check(run_task, T0 + dt.timedelta(hours=23)) == {"paused": 1}
    assert sla_check(run_task, dt.datetime(2026, 3, 4, 1, 59, tzinfo=dt.UTC)) == {"skipped": 1}
    assert not SlaBreach.objects.exists()
    assert sla_check(run_task, dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)) == {"reminded": 1}
    assert LeadCycle.objects.get(pk=cycle.pk).rep == sdr


def test_reassign_hands_the_lead_on_at_once(sdr, team, run_task):
    SlaPolicy.objects.update(on_leave=SlaPolicy.OnLeave.REASSIGN)
    teammate = RepFactory(role=Rep.Role.SDR, team=team)
    cycle = held_lead(sdr)
    Rep.objects.filter(pk=sdr.pk).update(out_of_office_from=dt.date(2026, 3, 2))
    assert sla_check(run_task, T0 + dt.timedelta(minutes=30)) == {"reassigned": 1}
    cycle.refresh_from_db()
    assert cycle.rep == teammate and cycle.assigned_at == T0 + dt.timedelta(minutes=30)
    assert OwnershipEvent.objects.filter(account=cycle.contact.account, reason="sla_reassignment", to_rep=teammate).exists()
    assert not SlaBreach.objects.exists()  # the away rep breached nothing
    assert sla_check(run_task, T0 + dt.timedelta(minutes=40)) == {}
