"""An import's one map of allowed moves (ImportRecord.TRANSITIONS) and its one transition
function (import_record_transition): legal moves save; illegal ones are refused with a clear
message and write nothing."""

import pytest
from django.utils import timezone

from apps.accounts.imports.services import import_record_transition
from apps.accounts.models import ImportRecord
from sdrops.state_machines import IllegalTransition

pytestmark = pytest.mark.django_db
Status = ImportRecord.Status


def test_the_map_ends_in_done_refused_or_failed():
    machine = ImportRecord.TRANSITIONS
    assert machine.states == set(Status.values)
    assert {s for s in Status.values if machine.is_final(s)} == set(ImportRecord.FINISHED)
    assert machine.allowed(Status.PREVIEWED) == {Status.QUEUED, Status.RUNNING}


def test_a_confirmed_import_runs_to_done(ops):
    record = ImportRecord.objects.create(kind="accounts", file_name="a.csv", created_by=ops.user)
    for status in (Status.PREVIEWED, Status.QUEUED, Status.RUNNING, Status.RUNNING):
        import_record_transition(record=record, to_status=status)
    import_record_transition(record=record, to_status=Status.DONE, finished_at=timezone.now())
    record.refresh_from_db()
    assert record.status == Status.DONE and record.finished_at is not None


@pytest.mark.parametrize(("start", "to_status", "message"), [
    (Status.DONE, Status.RUNNING, "An import cannot move from “done” to “running”: “done” is final."),
    (Status.PREVIEWING, Status.QUEUED, "An import cannot move from “previewing” to “queued”: from “previewing” it "
                                       "can only move to “previewed”, “refused”."),
])
def test_illegal_moves_are_refused_and_write_nothing(ops, start, to_status, message):
    record = ImportRecord.objects.create(kind="accounts", file_name="a.csv", status=start, created_by=ops.user)
    before = ImportRecord.objects.filter(pk=record.pk).values().get()
    with pytest.raises(IllegalTransition) as refused:
        import_record_transition(record=record, to_status=to_status, stage="should not stick")
    assert refused.value.messages == [message]
    assert ImportRecord.objects.filter(pk=record.pk).values().get() == before
