"""The enrolment's one map of allowed moves (Enrolment.TRANSITIONS) and its one transition
function (enrolment_transition): an active enrolment ends once, with its event; any other
move is refused with a clear message and writes nothing."""

import pytest
from django.db import transaction
from django.utils import timezone

from apps.cadences.models import Enrolment, EnrolmentEvent
from apps.cadences.services import activity_create, enrolment_create, enrolment_stop, enrolment_transition
from apps.cadences.tests.factories import cadence_with_steps
from apps.people.tests.factories import ContactFactory
from sdrops.state_machines import IllegalTransition

pytestmark = pytest.mark.django_db
State = Enrolment.State


@pytest.fixture
def enrolment(sdr):
    return enrolment_create(contact=ContactFactory(), cadence=cadence_with_steps(), rep=sdr)


def test_the_map_ends_an_active_enrolment_once():
    machine = Enrolment.TRANSITIONS
    assert machine.allowed(State.ACTIVE) == set(State.values) - {State.ACTIVE}
    assert all(machine.is_final(state) for state in State.values if state != State.ACTIVE)


def test_legal_moves_write_the_event_with_the_state(enrolment, sdr):
    activity_create(rep=sdr, contact=enrolment.contact, type="call", outcome="positive", actor=sdr.user)
    enrolment.refresh_from_db()
    assert enrolment.state == State.POSITIVE and enrolment.ended_at is not None
    assert list(enrolment.events.values_list("from_state", "to_state", "actor")) == [("active", "positive", None)]


def test_stopping_records_who_stopped_it(enrolment, manager):
    enrolment_stop(contact=enrolment.contact, actor=manager.user)
    event = EnrolmentEvent.objects.get(enrolment=enrolment)
    assert (event.from_state, event.to_state, event.actor) == ("active", "stopped", manager.user)


@pytest.mark.parametrize(("ended", "to_state"), [(State.POSITIVE, State.ACTIVE), (State.COMPLETED, State.STOPPED),
                                                 (State.STOPPED, State.STOPPED)])
def test_illegal_moves_are_refused_and_write_nothing(enrolment, ended, to_state):
    with transaction.atomic():
        enrolment_transition(enrolment=Enrolment.objects.select_for_update().get(pk=enrolment.pk), to_state=ended,
                             at=timezone.now())
    before = (Enrolment.objects.filter(pk=enrolment.pk).values().get(), EnrolmentEvent.objects.count())
    with pytest.raises(IllegalTransition) as refused, transaction.atomic():
        enrolment_transition(enrolment=Enrolment.objects.select_for_update().get(pk=enrolment.pk), to_state=to_state,
                             at=timezone.now())
    assert refused.value.messages == [
        f"A cadence enrolment cannot move from “{ended}” to “{to_state}”: “{ended}” is final."]
    assert (Enrolment.objects.filter(pk=enrolment.pk).values().get(), EnrolmentEvent.objects.count()) == before
