"""Stage moves of the Measurable Lead Model: what moves a lead, what does not, dispositions
with reasons, bypass, recycling, qualification and auto-abandon at its exact edges."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.cadences.services import activity_create
from apps.leads.models import DispositionReason, LeadCycle, LeadCycleEvent, LifecycleSettings
from apps.leads.services import lead_cycle_disposition, lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday


def reason(label_start: str) -> DispositionReason:
    return DispositionReason.objects.get(label__startswith=label_start)


@pytest.fixture
def lead(sdr):
    with time_machine.travel(T0, tick=False):
        return lead_cycle_open(contact=ContactFactory(), rep=sdr)


def test_real_activity_moves_assigned_to_working_and_is_the_first_touch(lead, sdr):
    with time_machine.travel(T0 + dt.timedelta(minutes=90), tick=False):
        activity_create(rep=sdr, contact=lead.contact, type="call", actor=sdr.user)
    lead.refresh_from_db()
    assert lead.state == "working"
    assert lead.first_touch_at == lead.worked_at == T0 + dt.timedelta(minutes=90)
    assert lead.response_time == dt.timedelta(minutes=90)
    assert list(lead.events.values_list("kind", "from_state", "to_state")) == [
        ("assigned", "", "assigned"), ("worked", "assigned", "working")
    ]
    # A second touch changes nothing about the first one.
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        activity_create(rep=sdr, contact=lead.contact, type="email")
    lead.refresh_from_db()
    assert lead.first_touch_at == T0 + dt.timedelta(minutes=90)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "email", "automated": True},  # a sequence robot is not work
        {"type": "note"},  # notes are not work
        {"type": "account_viewed"},
        {"type": "contact_added"},
    ],
)
def test_automated_touches_and_notes_do_not_move_a_lead(lead, sdr, kwargs):
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        activity = activity_create(rep=sdr, contact=lead.contact, **kwargs)
    lead.refresh_from_db()
    assert activity.pk and lead.state == "assigned" and lead.first_touch_at is None and lead.response_time is None


def test_activity_before_the_assignment_belongs_to_no_cycle(lead, sdr):
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        activity_create(rep=sdr, contact=lead.contact, type="call", occurred_at=T0 - dt.timedelta(days=1))
    lead.refresh_from_db()
    assert lead.state == "assigned"


def test_activity_in_the_future_is_refused(lead, sdr):
    with time_machine.travel(T0, tick=False), pytest.raises(ValidationError, match="in the future"):
        activity_create(rep=sdr, contact=lead.contact, type="call", occurred_at=T0 + dt.timedelta(hours=1))


def test_nurture_and_unqualified_need_a_reason_of_their_list(lead, sdr):
    with pytest.raises(ValidationError, match="needs a reason"):
        lead_cycle_disposition(cycle=lead, disposition="nurture", actor=sdr.user)
    with pytest.raises(ValidationError, match="is a unqualified reason, not a nurture one"):
        lead_cycle_disposition(cycle=lead, disposition="nurture", reason=reason("Duplicate"), actor=sdr.user)
    retired = reason("Under contract")
    retired.active = False
    retired.save()
    with pytest.raises(ValidationError, match="no longer offered"):
        lead_cycle_disposition(cycle=lead, disposition="nurture", reason=retired, actor=sdr.user)
    lead.refresh_from_db()
    assert lead.state == "assigned"
    # The database refuses a nurture without a reason even past the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadCycle.objects.filter(pk=lead.pk).update(state="dispositioned", disposition="nurture", dispositioned_at=T0)


def test_default_reason_lists_and_vague_reasons_refused():
    nurture = set(DispositionReason.objects.filter(disposition="nurture").values_list("label", flat=True))
    unqualified = set(DispositionReason.objects.filter(disposition="unqualified").values_list("label", flat=True))
    assert "Budget not available for 6+ months" in nurture and "Auto-abandoned" in nurture
    assert DispositionReason.objects.get(code="no_show_limit").disposition == "nurture"
    assert "Rep-abandoned" in nurture and "No response (end of cadence)" in nurture
    assert unqualified == {
        "Not a prospect (student, job seeker)", "Incompatible systems/solutions", "No longer at organisation", "Duplicate"
    }
    for vague in ("Not a fit", "junk", "Bad lead"):
        with pytest.raises(ValidationError, match="too vague"):
            DispositionReason(disposition="unqualified", label=vague).full_clean()
    system = DispositionReason.objects.get(code="auto_abandoned")
    system.active = False
    with pytest.raises(ValidationError, match="system uses this reason"):
        system.full_clean()


def test_disposition_from_working_is_not_a_bypass(lead, sdr):
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        activity_create(rep=sdr, contact=lead.contact, type="call")
        lead_cycle_disposition(cycle=lead, disposition="unqualified", reason=reason("No longer at"), actor=sdr.user)
    assert (lead.state, lead.disposition, lead.bypassed_working) == ("dispositioned", "unqualified", False)
    assert lead.disposition_reason == "No longer at organisation" and lead.dispositioned_by == sdr.user
    with pytest.raises(ValidationError, match="already dispositioned"):
        lead_cycle_disposition(cycle=lead, disposition="nurture", reason=reason("Rep-abandoned"), actor=sdr.user)


def test_disposition_without_touch_is_flagged_bypassed_and_has_no_response_time(lead, sdr):
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        lead_cycle_disposition(cycle=lead, disposition="unqualified", reason=reason("Not a prospect"), actor=sdr.user)
    assert lead.bypassed_working is True and lead.first_touch_at is None and lead.response_time is None


def test_qualified_needs_meeting_or_manager_override(lead, sdr, manager):
    with pytest.raises(ValidationError, match="needs a meeting or an opportunity"):
        lead_cycle_disposition(cycle=lead, disposition="qualified", actor=sdr.user)
    with pytest.raises(ValidationError, match="Only a manager or ops"):
        lead_cycle_disposition(cycle=lead, disposition="qualified", actor=sdr.user, override=True)
    lead_cycle_disposition(cycle=lead, disposition="qualified", actor=manager.user, override=True)
    assert lead.disposition == "qualified" and lead.qualified_override_by == manager.user


def test_qualified_with_a_meeting_logged_in_the_cycle(lead, sdr):
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        activity_create(rep=sdr, contact=lead.contact, type="meeting", subject="Discovery call booked")
        lead_cycle_disposition(cycle=lead, disposition="qualified", actor=sdr.user)
    assert lead.disposition == "qualified" and lead.qualified_override_by is None


def test_recycling_starts_a_new_cycle_and_keeps_the_old_one_untouched(lead, sdr, other_sdr):
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        activity_create(rep=sdr, contact=lead.contact, type="call")
        lead_cycle_disposition(cycle=lead, disposition="nurture", reason=reason("Budget"), actor=sdr.user)
    before = LeadCycle.objects.filter(pk=lead.pk).values().get()
    later = T0 + dt.timedelta(days=180)
    with time_machine.travel(later, tick=False):
        second = lead_cycle_open(contact=lead.contact, rep=other_sdr, lead_type="outbound")
        activity_create(rep=other_sdr, contact=lead.contact, type="email")
    second.refresh_from_db()
    assert (second.number, second.state, second.assigned_at, second.rep) == (2, "working", later, other_sdr)
    assert LeadCycle.objects.filter(pk=lead.pk).values().get() == before
    assert second.events.first().note == "recycled"


def run_auto_abandon(run_task, at):
    with time_machine.travel(at, tick=False):
        return run_task("apps.leads.tasks.lead_auto_abandon")


def test_auto_abandon_edges_exactly_30_days_working_and_7_idle(sdr, run_task):
    contact = ContactFactory()
    with time_machine.travel(T0, tick=False):
        cycle = lead_cycle_open(contact=contact, rep=sdr)
        activity_create(rep=sdr, contact=contact, type="call")  # working from T0
    last_touch = T0 + dt.timedelta(days=23)
    with time_machine.travel(last_touch, tick=False):
        activity_create(rep=sdr, contact=contact, type="email")
        activity_create(rep=None, contact=contact, type="email", automated=True)  # robots do not keep it alive
    with time_machine.travel(last_touch + dt.timedelta(days=8), tick=False):
        activity_create(rep=None, contact=contact, type="email", automated=True)
    # 30 days working minus a minute: not yet (and the last real touch is 7 days minus a minute old).
    assert run_auto_abandon(run_task, T0 + dt.timedelta(days=30) - dt.timedelta(minutes=1)) == 0
    # Exactly 30 days working, last real touch exactly 7 days ago: abandoned.
    assert run_auto_abandon(run_task, T0 + dt.timedelta(days=30)) == 1
    cycle.refresh_from_db()
    assert (cycle.disposition, cycle.reason.code, cycle.dispositioned_by_system, cycle.dispositioned_by) == (
        "nurture", "auto_abandoned", True, None
    )
    assert cycle.events.last().actor is None and "Auto-abandoned" in cycle.events.last().note
    # Running again does nothing.
    assert run_auto_abandon(run_task, T0 + dt.timedelta(days=31)) == 0


def test_auto_abandon_spares_recent_work_and_respects_edited_settings(sdr, run_task):
    contact = ContactFactory()
    with time_machine.travel(T0, tick=False):
        cycle = lead_cycle_open(contact=contact, rep=sdr)
        activity_create(rep=sdr, contact=contact, type="call")
    with time_machine.travel(T0 + dt.timedelta(days=24), tick=False):
        activity_create(rep=sdr, contact=contact, type="social")
    # Day 30: last real touch 6 days ago → kept.
    assert run_auto_abandon(run_task, T0 + dt.timedelta(days=30)) == 0
    LifecycleSettings.objects.filter(pk=1).update(auto_abandon_idle_days=5)
    assert run_auto_abandon(run_task, T0 + dt.timedelta(days=30)) == 1
    cycle.refresh_from_db()
    assert cycle.state == "dispositioned"


def test_assigned_leads_are_never_auto_abandoned(sdr, run_task):
    with time_machine.travel(T0, tick=False):
        cycle = lead_cycle_open(contact=ContactFactory(), rep=sdr, lead_type="outbound")
    assert run_auto_abandon(run_task, T0 + dt.timedelta(days=60)) == 0
    cycle.refresh_from_db()
    assert cycle.state == "assigned"


def test_events_record_actor(lead, sdr):
    activity_create(rep=sdr, contact=lead.contact, type="call", actor=sdr.user)
    assert LeadCycleEvent.objects.filter(cycle=lead, kind="worked", actor=sdr.user).exists()
