"""Meeting.status: one map of allowed moves (Meeting.TRANSITIONS) and one transition function
(meeting_transition) — legal moves pass, illegal ones are refused with a clear message and
write nothing, and every service that changes the status goes through it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from apps.meetings.models import Meeting
from apps.meetings.services import meeting_book, meeting_cancel, meeting_transition
from sdrops.state_machines import IllegalTransition

pytestmark = pytest.mark.django_db

S = Meeting.Status


def test_the_map():
    assert Meeting.TRANSITIONS.states == set(S.values)
    assert Meeting.TRANSITIONS.allowed(S.SCHEDULED) == {
        S.COMPLETED_QUALIFIED, S.COMPLETED_UNQUALIFIED, S.NO_SHOW, S.RESCHEDULED, S.CANCELLED,
    }
    for final in (S.COMPLETED_QUALIFIED, S.COMPLETED_UNQUALIFIED, S.NO_SHOW, S.RESCHEDULED, S.CANCELLED):
        assert Meeting.TRANSITIONS.is_final(final)


@pytest.fixture
def booked(pod, contact, start):
    return meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)


def test_a_scheduled_meeting_moves_with_its_audit_fields(booked, pod):
    at = timezone.now()
    with transaction.atomic():
        locked = Meeting.objects.select_for_update(no_key=True).get(pk=booked.pk)
        meeting_transition(meeting=locked, to_status=S.NO_SHOW, dispositioned_at=at,
                           dispositioned_by=pod["ae"].user, disposition_notes="Nobody came")
    saved = Meeting.objects.get(pk=booked.pk)
    assert (saved.status, saved.dispositioned_at, saved.dispositioned_by, saved.disposition_notes) == (
        S.NO_SHOW, at, pod["ae"].user, "Nobody came")


@pytest.mark.parametrize(("to_status", "message"), [
    (S.SCHEDULED, "A meeting cannot move from “cancelled” to “scheduled”: “cancelled” is final."),
    (S.NO_SHOW, "A meeting cannot move from “cancelled” to “no_show”: “cancelled” is final."),
])
def test_a_cancelled_meeting_is_final_and_nothing_is_written(booked, pod, to_status, message):
    meeting_cancel(meeting=booked, actor=pod["sdr"].user, cancelled_by=Meeting.CancelledBy.PROSPECT)
    before = Meeting.objects.filter(pk=booked.pk).values().get()
    with pytest.raises(IllegalTransition) as refused, transaction.atomic():
        locked = Meeting.objects.select_for_update(no_key=True).get(pk=booked.pk)
        meeting_transition(meeting=locked, to_status=to_status, dispositioned_at=timezone.now(),
                           disposition_notes="should not stick")
    assert refused.value.messages == [message]
    assert Meeting.objects.filter(pk=booked.pk).values().get() == before


def test_scheduled_to_scheduled_names_the_allowed_moves(booked):
    before = Meeting.objects.filter(pk=booked.pk).values().get()
    with pytest.raises(IllegalTransition) as refused:
        meeting_transition(meeting=booked, to_status=S.SCHEDULED, notes="x",
                           scheduled_at=booked.scheduled_at + dt.timedelta(days=1))
    assert refused.value.messages == [
        "A meeting cannot move from “scheduled” to “scheduled”: from “scheduled” it can only move to "
        "“cancelled”, “completed_qualified”, “completed_unqualified”, “no_show”, “rescheduled”."
    ]
    assert Meeting.objects.filter(pk=booked.pk).values().get() == before


def test_only_the_transition_function_assigns_the_status():
    """Every write of Meeting.status in apps/meetings goes through meeting_transition."""
    root = Path(__file__).resolve().parents[1]
    assignment = re.compile(r"\.status\s*=(?!=)|update\([^)]*\bstatus\s*=")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if "tests" not in path.parts and path.name != "transitions.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if assignment.search(line)
    ]
    assert offenders == []
