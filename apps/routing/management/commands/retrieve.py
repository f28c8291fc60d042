"""`python manage.py retrieve [--dry-run]`"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.routing.selectors import roe_get
from apps.routing.services import rest_periods_process, retrieval_run


class Command(BaseCommand):
    help = "Send owned accounts with no meaningful activity for the rules-of-engagement days back to the pool."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be retrieved and change nothing.")

    def handle(self, *args, **options):
        rows = retrieval_run(dry_run=options["dry_run"])
        days = roe_get().inactivity_days
        for row in rows:
            last = f"{row.last_worked_at:%Y-%m-%d}" if row.last_worked_at else "never"
            self.stdout.write(f"{row.account} (id {row.account_id}), rep id {row.rep_id}, last worked {last}")
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {len(rows)} account(s) idle for {days}+ days would be retrieved; nothing changed.")
            return
        rest_periods_process()
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} account(s) retrieved (idle for {days}+ days)."))
