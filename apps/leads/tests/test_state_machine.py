"""The lead cycle's one map of allowed moves (LeadCycle.TRANSITIONS) and its one transition
function (lead_cycle_transition): legal moves write the state and the event together; an
illegal one is refused with a clear message and writes nothing."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from apps.leads.models import LeadCycle, LeadCycleEvent
from apps.leads.services import lead_cycle_open
from apps.leads.services.cycles import lead_cycle_transition
from apps.people.tests.factories import ContactFactory
from sdrops.state_machines import IllegalTransition

pytestmark = pytest.mark.django_db
State = LeadCycle.State
Kind = LeadCycleEvent.Kind


def test_the_map_is_the_measurable_lead_models_stages():
    machine = LeadCycle.TRANSITIONS
    assert machine.states == set(State.values)
    assert machine.allowed(State.ASSIGNED) == {State.WORKING, State.DISPOSITIONED}
    assert machine.allowed(State.WORKING) == {State.DISPOSITIONED}
    assert machine.is_final(State.DISPOSITIONED)


@pytest.fixture
def cycle(sdr):
    return lead_cycle_open(contact=ContactFactory(), rep=sdr, assigned_at=timezone.now() - dt.timedelta(hours=1))


def _move(cycle, to_state, kind, note="test", **changes):
    with transaction.atomic():
        locked = LeadCycle.objects.select_for_update().get(pk=cycle.pk)
        return lead_cycle_transition(cycle=locked, to_state=to_state, kind=kind, note=note, **changes)


def test_legal_moves_write_the_state_and_the_event(cycle, sdr):
    now = timezone.now()
    _move(cycle, State.WORKING, Kind.WORKED, first_touch_at=now, worked_at=now)
    _move(cycle, State.DISPOSITIONED, Kind.DISPOSITIONED, disposition="qualified", dispositioned_at=now)
    cycle.refresh_from_db()
    assert cycle.state == State.DISPOSITIONED
    moves = list(cycle.events.values_list("kind", "from_state", "to_state"))
    assert moves == [("assigned", "", "assigned"), ("worked", "assigned", "working"),
                     ("dispositioned", "working", "dispositioned")]


@pytest.mark.parametrize(
    ("start", "to_state", "message"),
    [
        ("working", State.ASSIGNED, "A lead cycle cannot move from “working” to “assigned”: from “working” it can "
                                    "only move to “dispositioned”."),
        ("dispositioned", State.WORKING, "A lead cycle cannot move from “dispositioned” to “working”: "
                                         "“dispositioned” is final."),
        ("assigned", State.ASSIGNED, "A lead cycle cannot move from “assigned” to “assigned”"),
    ],
)
def test_illegal_moves_are_refused_and_write_nothing(cycle, start, to_state, message):
    now = timezone.now()
    if start != "assigned":
        _move(cycle, State.WORKING, Kind.WORKED, first_touch_at=now, worked_at=now)
    if start == "dispositioned":
        _move(cycle, State.DISPOSITIONED, Kind.DISPOSITIONED, disposition="qualified", dispositioned_at=now)
    before = (LeadCycle.objects.filter(pk=cycle.pk).values().get(), LeadCycleEvent.objects.count())
    with pytest.raises(IllegalTransition) as refused:
        _move(cycle, to_state, Kind.REASSIGNED, note="should not stick")
    assert message in refused.value.messages[0]
    assert (LeadCycle.objects.filter(pk=cycle.pk).values().get(), LeadCycleEvent.objects.count()) == before
