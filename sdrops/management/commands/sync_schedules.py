"""Apply the schedule registry (sdrops/schedules.py) to django-q2's Schedule table."""

from django.core.management.base import BaseCommand

from sdrops.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create the declared schedules that are missing and fix their task paths; timings ops edited stay."

    def handle(self, *args, **options):
        rows = schedules_sync()
        self.stdout.write(f"{len(rows)} schedules in sync: " + ", ".join(row.name for row in rows))
