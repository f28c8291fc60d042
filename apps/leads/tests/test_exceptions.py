"""Marking a lead cycle an exception (issue 22 item 4): who may, in whose scope, what is
recorded, and the undo. What it does to the numbers: apps/reporting/tests/test_exceptions.py."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from apps.leads import events
from apps.leads.models import ExceptionReason, LeadCycle, LeadCycleEvent
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark, lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reason():
    return ExceptionReason.objects.get(label="New market handled by hand")


def test_manager_marks_and_clears_with_who_and_why_recorded(sdr, manager, reason):
    cycle = lead_cycle_open(contact=ContactFactory(), rep=sdr)
    sent = []
    events.lead_cycle_exception_changed.connect(lambda **kw: sent.append((kw["cycle_id"], kw["exception"])),
                                                weak=False, dispatch_uid="test-exc")
    try:
        lead_cycle_exception_mark(cycle=cycle, reason=reason, note="DACH pilot", actor=manager)
        cycle.refresh_from_db()
        assert (cycle.exception_reason, cycle.exception_note, cycle.exception_by) == (reason, "DACH pilot", manager.user)
        assert cycle.exception_at is not None and cycle.state == LeadCycle.State.ASSIGNED
        assert list(LeadCycle.objects.exceptions()) == [cycle] and not LeadCycle.objects.counted().exists()
        with pytest.raises(ValidationError, match="lead cycle exception"):
            lead_cycle_exception_mark(cycle=cycle, reason=reason, actor=manager)

        lead_cycle_exception_clear(cycle=cycle, note="pilot folded into routing", actor=manager)
        cycle.refresh_from_db()
        assert (cycle.exception_reason, cycle.exception_at, cycle.exception_by, cycle.exception_note) == (None, None, None, "")
        with pytest.raises(ValidationError, match="not an exception"):
            lead_cycle_exception_clear(cycle=cycle, actor=manager)
    finally:
        events.lead_cycle_exception_changed.disconnect(dispatch_uid="test-exc")
    history = list(cycle.events.filter(kind__startswith="exception").values_list("kind", "actor", "note"))
    assert history == [
        (LeadCycleEvent.Kind.EXCEPTION_MARKED, manager.user.pk, "New market handled by hand: DACH pilot"),
        (LeadCycleEvent.Kind.EXCEPTION_CLEARED, manager.user.pk, "was: New market handled by hand; pilot folded into routing"),
    ]
    assert sent == [(cycle.pk, True), (cycle.pk, False)]


def test_rep_cannot_and_other_teams_manager_sees_nothing(sdr, other_sdr, manager, ops, reason):
    mine = lead_cycle_open(contact=ContactFactory(), rep=sdr)
    theirs = lead_cycle_open(contact=ContactFactory(), rep=other_sdr)
    with pytest.raises(PermissionDenied, match="Only a manager or ops"):
        lead_cycle_exception_mark(cycle=mine, reason=reason, actor=sdr)
    with pytest.raises(ValidationError, match="does not exist"):
        lead_cycle_exception_mark(cycle=theirs, reason=reason, actor=manager)
    lead_cycle_exception_mark(cycle=theirs, reason=reason, actor=ops)  # ops: every team
    with pytest.raises(PermissionDenied):
        lead_cycle_exception_clear(cycle=theirs, actor=other_sdr)
    reason.active = False
    reason.save()
    with pytest.raises(ValidationError, match="active exception reason"):
        lead_cycle_exception_mark(cycle=mine, reason=reason, actor=manager)
    assert not LeadCycle.objects.filter(pk=mine.pk).exceptions().exists()


def test_database_refuses_a_mark_without_reason(sdr):
    cycle = lead_cycle_open(contact=ContactFactory(), rep=sdr)
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadCycle.objects.filter(pk=cycle.pk).update(exception_at=cycle.assigned_at)


def test_admin_action_marks_for_manager_and_is_not_offered_to_reps(client, sdr, manager, reason):
    from django.urls import reverse

    cycle = lead_cycle_open(contact=ContactFactory(), rep=sdr)
    url = reverse("admin:leads_leadcycle_changelist")
    client.force_login(sdr.user)
    assert b"mark_exception" not in client.get(url).content
    client.force_login(manager.user)
    page = client.post(url, {"action": "mark_exception", "_selected_action": [cycle.pk]})
    assert b"left out of every performance number" in page.content
    client.post(url, {"action": "mark_exception", "_selected_action": [cycle.pk], "apply": "1",
                      "reason": reason.pk, "note": "by hand"})
    cycle.refresh_from_db()
    assert cycle.exception_reason == reason and cycle.exception_by == manager.user
    assert client.get(url, {"exception": "yes"}).context["cl"].result_count == 1
