"""Cadences: enrolment schedules, every step outcome, overdue → not completed, and the
end-of-cadence disposition."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.cadences.models import Cadence, Enrolment, EnrolmentStep
from apps.cadences.selectors import enrolment_steps_today, enrolments_awaiting_disposition
from apps.cadences.services import activity_create, enrolment_create, enrolment_step_skip
from apps.cadences.tests.factories import cadence_with_steps
from apps.leads.models import DispositionReason, LeadCycle
from apps.leads.services import lead_cycle_disposition, lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def outcomes(enrolment):
    return list(enrolment.steps.order_by("position").values_list("outcome", flat=True))


@pytest.fixture
def enrolled(sdr):
    cadence = cadence_with_steps(steps=((0, "call"), (2, "email"), (4, "call")))
    with time_machine.travel(T0, tick=False):
        return enrolment_create(contact=ContactFactory(), cadence=cadence, rep=sdr, actor=sdr.user)


def test_default_cadences_are_loaded():
    inbound = Cadence.objects.get(name="High-touch inbound")
    outbound = Cadence.objects.get(name="Outbound target account")
    assert inbound.steps.count() == 5 and max(inbound.steps.values_list("day_offset", flat=True)) <= 6
    assert outbound.steps.count() == 21 and max(outbound.steps.values_list("day_offset", flat=True)) <= 29
    assert outbound.lead_type == "target_account"


def test_enrolment_schedules_steps_and_assigns_the_outbound_lead(enrolled, sdr):
    assert list(enrolled.steps.values_list("position", "due_at")) == [
        (1, T0), (2, T0 + dt.timedelta(days=2)), (3, T0 + dt.timedelta(days=4))
    ]
    cycle = enrolled.lead_cycle
    assert (cycle.lead_type, cycle.rep, cycle.assigned_at, cycle.state) == ("outbound", sdr, T0, "assigned")


def test_enrolling_an_assigned_inbound_lead_keeps_its_cycle_and_clock(sdr):
    contact = ContactFactory()
    cycle = lead_cycle_open(contact=contact, rep=sdr, assigned_at=T0 - dt.timedelta(minutes=10))
    cadence = Cadence.objects.get(name="High-touch inbound")
    with time_machine.travel(T0, tick=False):
        enrolment = enrolment_create(contact=contact, cadence=cadence, rep=sdr)
    assert enrolment.lead_cycle == cycle and LeadCycle.objects.filter(contact=contact).count() == 1


def test_only_one_active_enrolment_per_contact(enrolled, sdr):
    other = cadence_with_steps()
    with pytest.raises(ValidationError, match="already enrolled"):
        enrolment_create(contact=enrolled.contact, cadence=other, rep=sdr)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(contact=enrolled.contact, cadence=other, rep=sdr)


def test_call_moves_lead_to_working_and_no_response_advances(enrolled, sdr):
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        activity = activity_create(rep=sdr, contact=enrolled.contact, type="call", actor=sdr.user)
    enrolled.refresh_from_db()
    assert outcomes(enrolled) == ["no_response", "pending", "pending"]
    assert enrolled.steps.get(position=1).activity == activity
    assert enrolled.state == "active" and enrolled.lead_cycle.state == "working"


def test_notes_and_automated_touches_do_not_complete_steps(enrolled, sdr):
    activity_create(rep=sdr, contact=enrolled.contact, type="note", subject="Left a sticky note")
    activity_create(rep=None, contact=enrolled.contact, type="email", automated=True)
    assert outcomes(enrolled) == ["pending", "pending", "pending"]


def test_positive_response_ends_the_enrolment(enrolled, sdr):
    activity_create(rep=sdr, contact=enrolled.contact, type="call", outcome="positive")
    enrolled.refresh_from_db()
    assert enrolled.state == "positive" and outcomes(enrolled) == ["positive", "pending", "pending"]
    enrolled.lead_cycle.refresh_from_db()
    assert enrolled.lead_cycle.state == "working"


def test_negative_response_ends_and_asks_for_a_disposition(enrolled, sdr):
    activity_create(rep=sdr, contact=enrolled.contact, type="call", outcome="negative")
    enrolled.refresh_from_db()
    assert enrolled.state == "negative" and outcomes(enrolled)[0] == "negative"
    assert list(enrolments_awaiting_disposition(rep_ids=[sdr.pk])) == [enrolled]
    lead_cycle_disposition(
        cycle=enrolled.lead_cycle, disposition="unqualified",
        reason=DispositionReason.objects.get(label="Duplicate"), actor=sdr.user,
    )
    assert list(enrolments_awaiting_disposition(rep_ids=[sdr.pk])) == []


def test_last_step_with_no_response_dispositions_to_nurture_no_response(enrolled, sdr):
    for day in (0, 2, 4):
        with time_machine.travel(T0 + dt.timedelta(days=day, hours=1), tick=False):
            activity_create(rep=sdr, contact=enrolled.contact, type="call")
    enrolled.refresh_from_db()
    cycle = enrolled.lead_cycle
    cycle.refresh_from_db()
    assert enrolled.state == "completed" and outcomes(enrolled) == ["no_response"] * 3
    assert (cycle.state, cycle.disposition, cycle.reason.code, cycle.dispositioned_by_system) == (
        "dispositioned", "nurture", "no_response", True
    )
    assert cycle.dispositioned_at == T0 + dt.timedelta(days=4, hours=1)


def test_skip_marks_not_completed_and_skipping_the_last_step_leaves_the_lead_open(enrolled, sdr):
    first = enrolled.steps.get(position=1)
    enrolment_step_skip(step=first, actor=sdr.user)
    with pytest.raises(ValidationError, match="Only the current step"):
        enrolment_step_skip(step=enrolled.steps.get(position=3))
    enrolment_step_skip(step=enrolled.steps.get(position=2))
    enrolment_step_skip(step=enrolled.steps.get(position=3))
    enrolled.refresh_from_db()
    assert outcomes(enrolled) == ["not_completed"] * 3 and enrolled.state == "incomplete"
    enrolled.lead_cycle.refresh_from_db()
    assert enrolled.lead_cycle.state == "assigned"


def test_overdue_by_more_than_a_day_becomes_not_completed(enrolled, sdr, run_task):
    # Exactly one day overdue: still the rep's to do.
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        assert run_task("apps.cadences.tasks.cadence_overdue_steps") == 0
    with time_machine.travel(T0 + dt.timedelta(days=1, minutes=1), tick=False):
        assert run_task("apps.cadences.tasks.cadence_overdue_steps") == 1
        assert run_task("apps.cadences.tasks.cadence_overdue_steps") == 0
    step = enrolled.steps.get(position=1)
    assert (step.outcome, step.ended_by_system) == ("not_completed", True)
    # The next logged call completes step 2.
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        activity_create(rep=sdr, contact=enrolled.contact, type="email")
    assert outcomes(enrolled) == ["not_completed", "no_response", "pending"]
    # Everything left runs overdue: the enrolment ends incomplete, the lead is not abandoned for the rep.
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        assert run_task("apps.cadences.tasks.cadence_overdue_steps") == 1
    enrolled.refresh_from_db()
    assert enrolled.state == "incomplete" and enrolled.lead_cycle.state == "working"


def test_disposition_ends_the_enrolment(enrolled, sdr):
    lead_cycle_disposition(
        cycle=enrolled.lead_cycle, disposition="nurture",
        reason=DispositionReason.objects.get(label="Rep-abandoned"), actor=sdr.user,
    )
    enrolled.refresh_from_db()
    assert enrolled.state == "dispositioned" and enrolled.ended_at is not None


def test_today_list_shows_current_due_and_overdue_steps_only_for_the_rep(enrolled, sdr, other_sdr):
    cadence = cadence_with_steps(steps=((1, "email"),))
    with time_machine.travel(T0, tick=False):
        later = enrolment_create(contact=ContactFactory(), cadence=cadence, rep=sdr)
        enrolment_create(contact=ContactFactory(), cadence=cadence_with_steps(), rep=other_sdr)
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        today = list(enrolment_steps_today(rep_ids=[sdr.pk]))
    assert [(s.enrolment, s.position) for s in today] == [(enrolled, 1)]
    with time_machine.travel(T0 + dt.timedelta(days=1, hours=1), tick=False):
        today = list(enrolment_steps_today(rep_ids=[sdr.pk]))
    # Step 1 of the first enrolment is overdue (listed first); the other's step 1 is due today.
    assert [(s.enrolment, s.position) for s in today] == [(enrolled, 1), (later, 1)]
    assert EnrolmentStep.objects.filter(outcome="pending").count() == 3 + 1 + 3


def test_pickup_and_bypass_by_rep(sdr, other_sdr):
    from apps.leads.selectors import lead_response_by_rep

    reason = DispositionReason.objects.get(label="Duplicate")
    with time_machine.travel(T0, tick=False):
        worked, bypassed, untouched, theirs = (
            lead_cycle_open(contact=ContactFactory(), rep=rep) for rep in (sdr, sdr, sdr, other_sdr)
        )
        activity_create(rep=sdr, contact=worked.contact, type="call")
        lead_cycle_disposition(cycle=bypassed, disposition="unqualified", reason=reason, actor=sdr.user)
    stats = lead_response_by_rep(rep_ids=[sdr.pk, other_sdr.pk], start=T0 - dt.timedelta(days=1),
                                 end=T0 + dt.timedelta(days=1))
    mine = stats[sdr.pk]
    assert (mine.assigned, mine.picked_up, mine.bypassed) == (3, 2, 1)
    assert mine.pickup_rate == pytest.approx(2 / 3) and mine.bypass_rate == 0.5
    assert (stats[other_sdr.pk].assigned, stats[other_sdr.pk].pickup_rate) == (1, 0)


def test_demo_enrolments_are_part_way_through(sdr):
    import random

    from apps.cadences.demo import demo_enrolments

    for n in range(6):
        contact = ContactFactory(email=f"demo{n}@acme.com")
        from apps.accounts.services import account_set_owner

        account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
    with time_machine.travel(T0, tick=False):
        assert demo_enrolments(rng=random.Random(3), sdrs=[sdr], now=T0) == 4
    enrolments = Enrolment.objects.filter(rep=sdr)
    assert enrolments.count() == 4
    assert EnrolmentStep.objects.filter(enrolment__in=enrolments).exclude(outcome="pending").exists()
    assert all(e.lead_cycle.lead_type == "target_account" for e in enrolments)


def test_stop_ends_the_active_enrolment_without_an_outcome(enrolled, sdr):
    from apps.cadences.services import enrolment_stop

    assert enrolment_stop(contact=enrolled.contact, actor=sdr.user) == enrolled
    enrolled.refresh_from_db()
    assert enrolled.state == "stopped" and outcomes(enrolled) == ["pending"] * 3
    assert enrolment_stop(contact=enrolled.contact) is None
    # The contact can be enrolled again (e.g. a reschedule cadence).
    enrolment_create(contact=enrolled.contact, cadence=cadence_with_steps(), rep=sdr)
