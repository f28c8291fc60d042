"""django-q2 tasks for imports: they take the record id and are safe to run twice."""

from __future__ import annotations


def import_record_preview_task(record_id: int) -> None:
    from apps.accounts.imports.services import import_record_preview
    from apps.accounts.models import ImportRecord

    record = ImportRecord.objects.get(pk=record_id)
    if record.status == ImportRecord.Status.PREVIEWING:
        import_record_preview(record=record)


def import_record_task(record_id: int) -> None:
    from apps.accounts.imports.services import import_record_run

    import_record_run(record_id=record_id)
