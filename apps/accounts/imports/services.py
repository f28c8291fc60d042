"""Running an import: the one entry point the commands, the admin and the job all call.

`import_run` is all-or-nothing: the whole write happens in one transaction, so a refused
file, a crash or a killed worker leaves nothing behind. `--dry-run` (and the admin preview)
runs the very same statements and rolls them back, so the preview's counts are exact.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.accounts.imports.accounts import AccountImporter
from apps.accounts.imports.base import ImportOutcome, Progress, cycle_collection_paused, table_problems
from apps.accounts.imports.reading import FileRefused, read_table, rejects_csv
from apps.accounts.models import ImportRecord
from apps.people.actors import actor_user
from apps.people.imports import ContactImporter, RepImporter

logger = logging.getLogger(__name__)

# Files with more rows than this import as a django-q2 job from the admin.
ASYNC_ROW_THRESHOLD = 3000
PREVIEW_ERRORS = 100


def importer_class(kind: str):

    return {"accounts": AccountImporter, "contacts": ContactImporter, "reps": RepImporter}[kind]


def import_run(
    *,
    kind: str,
    data: bytes,
    actor=None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    encoding: str | None = None,
    progress: Progress | None = None,
    on_success: Callable[[ImportOutcome], None] | None = None,
) -> ImportOutcome:
    """Import a CSV file of `kind` (accounts, contacts, reps) as `actor`.

    With errors and without `skip_bad_rows` nothing is written (`outcome.refused`). A dry
    run still computes what the good rows would do, then rolls back. `on_success` runs
    inside the transaction after a real write, so a caller's bookkeeping commits with it.
    """
    Importer = importer_class(kind)
    outcome = ImportOutcome(kind=kind, dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    try:
        table = read_table(data, known=Importer.columns, encoding=encoding)
    except FileRefused as refusal:
        outcome.refused = True
        outcome.file_errors = refusal.messages
        return outcome
    problems = table_problems(table, required=Importer.required, kind=kind[:-1] if kind != "reps" else "rep")
    if problems:
        outcome.refused = True
        outcome.file_errors = problems
        return outcome
    if table.unknown_columns:
        outcome.warnings.append(
            f"Ignored unknown column{'s' if len(table.unknown_columns) > 1 else ''}: "
            f"{', '.join(table.unknown_columns)}. Known columns: {', '.join(Importer.columns)}."
        )
    importer = Importer(table, actor=actor, progress=progress)
    try:
        with cycle_collection_paused():
            validated = importer.validate()
    except FileRefused as refusal:  # a record deep in the file the csv reader cannot take
        outcome.refused = True
        outcome.file_errors = refusal.messages
        return outcome
    outcome.total_rows = validated.total
    with transaction.atomic():
        with connection.cursor() as cursor:
            errors = validated.errors + importer.stage(cursor, validated)
            # Staged in the database now; free the rows before the writes build their own.
            validated.rows.clear()
            errors.sort(key=lambda error: error.line)
            bad_lines = {error.line for error in errors}
            outcome.errors = errors
            outcome.rejected = len(bad_lines)
            outcome.refused = bool(errors) and not skip_bad_rows
            if not outcome.refused or dry_run:
                if bad_lines:
                    importer.drop(cursor, bad_lines)
                outcome.new, outcome.updated = importer.write(cursor)
                outcome.unchanged = outcome.total_rows - outcome.rejected - outcome.new - outcome.updated
            outcome.warnings.extend(getattr(importer, "warnings", []))
        if errors:
            outcome.rejects_csv = rejects_csv(table, errors)
        if dry_run or outcome.refused:
            transaction.set_rollback(True)
        elif on_success is not None:
            on_success(outcome)
    if not outcome.total_rows and not outcome.refused:
        outcome.warnings.append("The file has a header but no rows.")
    return outcome


# -- import records: the admin's upload → preview → confirm, and the background job --------


class _ProgressWriter:
    """Writes an import's progress from its own connection, outside the import's
    still-open transaction, so the admin page polling it sees the figures move."""

    def __init__(self, record_id: int):
        self.record_id = record_id
        self.connection = None

    def __call__(self, processed: int, total: int, stage: str) -> None:
        try:
            if self.connection is None:
                self.connection = connections.create_connection("default")
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE accounts_importrecord SET processed_rows = GREATEST(processed_rows, %s),"
                    " total_rows = GREATEST(total_rows, %s), stage = %s WHERE id = %s",
                    [processed, total, stage[:100], self.record_id],
                )
        except Exception:  # progress is cosmetic: never let it break the import
            logger.warning("Could not write progress of import %s", self.record_id, exc_info=True)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _record_outcome(record: ImportRecord, outcome: ImportOutcome) -> None:
    record.total_rows = outcome.total_rows
    record.processed_rows = outcome.total_rows
    record.new_count = outcome.new
    record.updated_count = outcome.updated
    record.unchanged_count = outcome.unchanged
    record.rejected_count = outcome.rejected
    record.error_count = len(outcome.errors)
    record.errors = [error.as_dict() for error in outcome.errors[:PREVIEW_ERRORS]]
    record.messages = [*outcome.file_errors, *outcome.warnings]
    record.stage = ""


def import_record_transition(*, record: ImportRecord, to_status: str, **fields) -> ImportRecord:
    """The one way an import's status changes: refuses a move ImportRecord.TRANSITIONS does not
    allow (IllegalTransition, nothing written), else saves the status with `fields`. The record
    is its own audit (who, started, finished, counts, messages)."""
    ImportRecord.TRANSITIONS.check(record.status, to_status)
    for field, value in fields.items():
        setattr(record, field, value)
    record.status = to_status
    record.save()
    return record


def data_rows(data: bytes) -> int:
    """The rows under the header: counted lines when no field is quoted (a quoted field may
    hold a line break), else records as the csv reader sees them. Blank lines do not count."""
    lines = max(sum(1 for line in data.splitlines() if line.strip()) - 1, 0)
    if b'"' not in data:
        return lines
    try:
        text = data.decode("utf-8", errors="replace")
        return max(sum(1 for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)) - 1, 0)
    except csv.Error:  # a file the check will refuse anyway (a huge field): its lines will do
        return lines


def import_record_create(*, kind: str, file_name: str, data: bytes, actor, encoding: str = "utf-8",
                         skip_bad_rows: bool = False, source: str = "admin") -> ImportRecord:
    # The row count is known before the first row is checked, so the progress bar reads
    # "checked 0 of 1,200 rows" from the first second, never "0 of 0".
    record = ImportRecord(
        kind=kind, file_name=file_name[:255], encoding=encoding or "utf-8", skip_bad_rows=skip_bad_rows,
        source=source, created_by=actor_user(actor), total_rows=data_rows(data),
        stage="Waiting to start checking",
    )
    record.file.save(file_name.rsplit("/", 1)[-1] or "import.csv", ContentFile(data), save=False)
    record.save()
    return record


def import_record_preview(*, record: ImportRecord) -> ImportOutcome:
    """Dry-run the stored file and keep the counts and first errors on the record."""
    progress = _ProgressWriter(record.pk)
    try:
        with record.file.open("rb") as handle:
            data = handle.read()
        outcome = import_run(
            kind=record.kind, data=data, actor=record.created_by, dry_run=True,
            skip_bad_rows=record.skip_bad_rows, encoding=record.encoding, progress=progress,
        )
    except Exception as error:
        # Never leave the record "checking the file" forever: whatever went wrong, it is
        # finished, failed, with the reason on it (and the traceback in the log).
        logger.exception("Checking import %s failed", record.pk)
        record.status = ImportRecord.Status.FAILED
        record.finished_at = timezone.now()
        record.stage = ""
        record.messages = [*record.messages, f"Checking the file failed and nothing was written: {error}"[:2000]]
        record.save()
        return ImportOutcome(kind=record.kind, dry_run=True, refused=True, file_errors=record.messages)
    finally:
        progress.close()
    _record_outcome(record, outcome)
    if outcome.file_errors:
        import_record_transition(record=record, to_status=ImportRecord.Status.REFUSED, finished_at=timezone.now())
    else:
        import_record_transition(record=record, to_status=ImportRecord.Status.PREVIEWED)
    return outcome


def import_record_run(*, record_id: int) -> ImportRecord:
    """Import a stored file for real. Safe to run twice (a retried job): a finished record
    is left alone, and the import itself is idempotent."""
    with transaction.atomic():
        record = ImportRecord.objects.select_for_update().get(pk=record_id)
        if record.is_finished:
            return record
        import_record_transition(record=record, to_status=ImportRecord.Status.RUNNING, started_at=timezone.now(),
                                 processed_rows=0, stage="Reading the file")
    progress = _ProgressWriter(record.pk)

    def finish(outcome: ImportOutcome) -> None:
        # Inside the import's transaction: the record says "done" only if the data committed.
        _record_outcome(record, outcome)
        if outcome.errors:
            record.rejects_file.save(f"rejects-{record.pk}.csv", ContentFile(rejects_csv_bytes(outcome)), save=False)
        import_record_transition(record=record, to_status=ImportRecord.Status.DONE, finished_at=timezone.now())

    try:
        with record.file.open("rb") as handle:
            data = handle.read()
        outcome = import_run(
            kind=record.kind, data=data, actor=record.created_by, skip_bad_rows=record.skip_bad_rows,
            encoding=record.encoding, progress=progress, on_success=finish,
        )
    except Exception as error:
        logger.exception("Import %s failed", record_id)
        record.refresh_from_db()
        import_record_transition(record=record, to_status=ImportRecord.Status.FAILED, finished_at=timezone.now(),
                                 messages=[*record.messages, f"The import failed and nothing was written: {error}"])
        raise
    finally:
        progress.close()
    if outcome.refused:
        _record_outcome(record, outcome)
        if outcome.errors:
            record.rejects_file.save(f"rejects-{record.pk}.csv", ContentFile(rejects_csv_bytes(outcome)), save=False)
        import_record_transition(record=record, to_status=ImportRecord.Status.REFUSED, finished_at=timezone.now())
    return record


def rejects_csv_bytes(outcome: ImportOutcome) -> bytes:
    return (outcome.rejects_csv or "").encode("utf-8")


def import_record_command(*, kind: str, file_name: str, outcome: ImportOutcome, actor) -> ImportRecord:
    """Keep a command-line import on record too (the file itself stays where it was)."""
    now = timezone.now()
    record = ImportRecord(
        kind=kind, file_name=file_name[:255], skip_bad_rows=outcome.skip_bad_rows, source="command",
        created_by=actor_user(actor), started_at=now, finished_at=now,
        status=ImportRecord.Status.REFUSED if outcome.refused else ImportRecord.Status.DONE,
    )
    _record_outcome(record, outcome)
    if outcome.errors:
        record.rejects_file.save(f"rejects-command-{kind}.csv", ContentFile(rejects_csv_bytes(outcome)), save=False)
    record.save()
    return record
