"""Rebuild the report rollups from history, or check them (apps.reporting.rollups)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from apps.reporting.rollups import rollups_check, rollups_rebuild


class Command(BaseCommand):
    help = ("Recompute the report rollups and the lead cycles' report flags from history "
            "(--check: compare what the triggers keep with a rebuild, change nothing).")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Compare only; exit with an error when a rollup differs from its rebuild.")

    def handle(self, *args, check=False, **options):
        started = time.monotonic()
        if check:
            differences = rollups_check()
            took = time.monotonic() - started
            if differences:
                for d in differences:
                    self.stderr.write(f"{d.table}: {d.missing} rows missing, {d.extra} rows extra")
                raise CommandError(f"The report rollups differ from a rebuild ({took:.1f} s); "
                                   "run rebuild_report_rollups without --check to repair them.")
            self.stdout.write(self.style.SUCCESS(f"Report rollups equal a rebuild from history ({took:.1f} s)."))
            return
        rollups_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Report rollups rebuilt from history in {time.monotonic() - started:.1f} s."))
