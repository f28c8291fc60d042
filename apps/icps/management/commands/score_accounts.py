from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from apps.accounts.models import Account
from apps.icps.services import accounts_rescore


class Command(BaseCommand):
    help = "Rescore accounts never scored (default) or every account (--all) against the active ICPs."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Rescore every account (what the nightly job does).")

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["all"]:
            result = accounts_rescore()
        else:
            ids = list(Account.objects.filter(scored_at__isnull=True).values_list("pk", flat=True))
            result = accounts_rescore(account_ids=ids)
        self.stdout.write(
            f"{result.accounts_written} account(s) written, {result.history_rows} tier/quadrant change(s) "
            f"in {time.monotonic() - started:.1f} s."
        )
