"""django-q2 tasks for imports: they take the record id and are safe to run twice."""

from __future__ import annotations

from apps.accounts.imports.services import import_record_preview, import_record_run
from apps.accounts.models import ImportRecord


def import_record_preview_task(record_id: int) -> None:

    record = ImportRecord.objects.get(pk=record_id)
    if record.status == ImportRecord.Status.PREVIEWING:
        import_record_preview(record=record)


def import_record_task(record_id: int) -> None:

    import_record_run(record_id=record_id)
