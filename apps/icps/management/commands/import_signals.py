from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.icps.signal_import import SignalImportError, signals_import


class Command(BaseCommand):
    help = "Import signals from a CSV file keyed by account domain; nothing is written if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check the file, write nothing.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            result = signals_import(data=path.read_bytes(), dry_run=options["dry_run"])
        except SignalImportError as error:
            for warning in error.result.warnings:
                self.stderr.write(warning)
            raise CommandError(
                f"{path}: {len(error.result.errors)} error(s), nothing imported.\n" + "\n".join(error.result.errors)
            )
        except ValidationError as error:
            raise CommandError(f"{path}: {error.messages[0]} Nothing imported.")
        for warning in result.warnings:
            self.stderr.write(warning)
        verb = "would import" if options["dry_run"] else "imported"
        self.stdout.write(f"{result.rows} row(s) read, {verb} {result.created if not options['dry_run'] else result.rows} new signal(s).")
