"""Returns and distributions: each status field's one map of allowed moves and its one
transition function — legal moves pass, illegal ones are refused with a clear message and
write nothing."""

import pytest
from django.db import transaction

from apps.accounts.services import account_set_owner
from apps.routing.models import Distribution, ReturnRequest
from apps.routing.services import (
    distribution_transition,
    return_file,
    return_reject,
    return_request_transition,
)
from apps.routing.tests.factories import ScoredAccountFactory
from sdrops.state_machines import IllegalTransition

pytestmark = pytest.mark.django_db


def test_the_maps():
    R, D = ReturnRequest.Status, Distribution.Status
    assert ReturnRequest.TRANSITIONS.allowed(R.PENDING) == {R.APPROVED, R.REJECTED}
    assert ReturnRequest.TRANSITIONS.is_final(R.APPROVED) and ReturnRequest.TRANSITIONS.is_final(R.REJECTED)
    assert Distribution.TRANSITIONS.allowed(D.PREVIEW) == {D.COMMITTED, D.REFUSED}
    assert Distribution.TRANSITIONS.is_final(D.COMMITTED) and Distribution.TRANSITIONS.is_final(D.REFUSED)


@pytest.fixture
def rejected(sdr, manager):
    account = ScoredAccountFactory()
    account_set_owner(account=account, to_rep=sdr, reason="distribution")
    return return_reject(return_request=return_file(account=account, rep=sdr, reason="bad_data"),
                         actor=manager.user, note="The data is fine")


def test_a_reviewed_return_cannot_be_reviewed_again(rejected, manager):
    assert (rejected.status, rejected.reviewed_by) == ("rejected", manager.user)
    before = ReturnRequest.objects.filter(pk=rejected.pk).values().get()
    with pytest.raises(IllegalTransition) as refused, transaction.atomic():
        locked = ReturnRequest.objects.select_for_update().get(pk=rejected.pk)
        return_request_transition(return_request=locked, to_status="approved", actor=manager.user, at=None, note="x")
    assert refused.value.messages == ["A return cannot move from “rejected” to “approved”: “rejected” is final."]
    assert ReturnRequest.objects.filter(pk=rejected.pk).values().get() == before


@pytest.mark.parametrize(("start", "to_status", "message"), [
    ("committed", "refused", "A distribution cannot move from “committed” to “refused”: “committed” is final."),
    ("preview", "preview", "A distribution cannot move from “preview” to “preview”: from “preview” it can only "
                           "move to “committed”, “refused”."),
])
def test_distribution_moves_outside_the_map_are_refused(ops, start, to_status, message):
    distribution = Distribution.objects.create(status=start, created_by=ops.user)
    before = Distribution.objects.filter(pk=distribution.pk).values().get()
    with pytest.raises(IllegalTransition) as refused:
        distribution_transition(distribution=distribution, to_status=to_status, note="should not stick")
    assert refused.value.messages == [message]
    assert Distribution.objects.filter(pk=distribution.pk).values().get() == before


def test_a_preview_commits(ops):
    distribution = Distribution.objects.create(created_by=ops.user)
    distribution_transition(distribution=distribution, to_status="committed")
    assert Distribution.objects.get(pk=distribution.pk).status == "committed"
