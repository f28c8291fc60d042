"""The shared body of import_<kind> and export_<kind> management commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.csv_safety import csv_writer
from apps.accounts.imports.exports import EXPORTERS
from apps.accounts.imports.services import import_record_command, import_run

MAX_PRINTED_ERRORS = 1000


class ImportCommand(BaseCommand):
    kind = ""
    # No system checks: they load every URLconf, view and API schema module (about a second
    # of start-up, more than a small file's import), and an import needs none of them; the
    # checks run with `check`, `migrate`, `runserver` and the tests.
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = (
            f"Import a {self.kind} CSV file (UTF-8, comma/semicolon/tab separated). All-or-nothing unless "
            "--skip-bad-rows. Exit status 0 when imported (or importable with --dry-run), 1 when refused."
        )
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count, write nothing.")
        parser.add_argument("--skip-bad-rows", action="store_true", help="Import the good rows; reject the bad ones.")
        parser.add_argument("--rejects", metavar="OUT.csv", help="Write the bad rows, with an error column, here.")
        parser.add_argument("--encoding", default="utf-8", help="The file's encoding when it is not UTF-8 (e.g. cp1252).")
        parser.add_argument("--user", help="Username recorded as the actor of the import (ownership events).")

    def handle(self, *args, **options):

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = None
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named “{options['user']}”.")
        progress = None
        started = time.monotonic()
        if options["verbosity"] >= 2:
            def progress(done, total, stage):
                elapsed = time.monotonic() - started
                self.stderr.write(f"{elapsed:7.2f}s {stage}: {done}/{total}" if total else f"{elapsed:7.2f}s {stage}")
        outcome = import_run(
            kind=self.kind, data=path.read_bytes(), actor=actor, dry_run=options["dry_run"],
            skip_bad_rows=options["skip_bad_rows"], encoding=options["encoding"], progress=progress,
        )
        for message in outcome.file_errors:
            self.stderr.write(message)
        for warning in outcome.warnings:
            self.stderr.write(f"Warning: {warning}")
        for error in outcome.errors[:MAX_PRINTED_ERRORS]:
            self.stderr.write(f"Error: {error}")
        if len(outcome.errors) > MAX_PRINTED_ERRORS:
            self.stderr.write(f"… and {len(outcome.errors) - MAX_PRINTED_ERRORS} more errors (all of them are in --rejects).")
        if options["rejects"] and outcome.rejects_csv is not None:
            Path(options["rejects"]).write_text(outcome.rejects_csv, encoding="utf-8")
            self.stderr.write(f"Rejected rows written to {options['rejects']}")
        if not options["dry_run"]:
            import_record_command(kind=self.kind, file_name=str(path), outcome=outcome, actor=actor)
        if options["verbosity"] >= 2:
            self.stderr.write(f"{time.monotonic() - started:7.2f}s done")
        counts = (
            f"new={outcome.new} updated={outcome.updated} unchanged={outcome.unchanged} rejected={outcome.rejected}"
        )
        self.stdout.write(f"{counts}\n{outcome.summary()}")
        if outcome.refused:
            sys.exit(1)


class ExportCommand(BaseCommand):
    kind = ""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = f"Export all {self.kind} as CSV in the columns import_{self.kind} takes (formula cells neutralised)."
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the CSV ('-' for standard output).")

    def handle(self, *args, **options):

        model, rows = EXPORTERS[self.kind]
        if options["file"] == "-":
            self._write(self.stdout._out, rows(model.objects.all()))
            return
        with open(options["file"], "w", newline="", encoding="utf-8") as handle:
            count = self._write(handle, rows(model.objects.all()))
        self.stderr.write(f"Exported {count} {self.kind} to {options['file']}")

    @staticmethod
    def _write(stream, rows) -> int:
        writer = csv_writer(stream, lineterminator="\n")
        count = -1
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
