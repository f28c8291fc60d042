"""`python manage.py distribute [--dry-run] [--team T] [--segment S] [--play NAME]`"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.markets.models import TargetedPlay
from apps.people.models import Segment, Team
from apps.routing.services import PlanRow, distribution_run


def plan_table(rows: list[PlanRow]) -> list[str]:
    lines = [f"{'rep':<30} {'capacity':>8} {'before':>7} {'adds':>5} {'after':>6}  tiers"]
    for row in rows:
        summary = row.summary()
        tiers = " ".join(f"{tier}:{n}" for tier, n in summary["tiers"].items())
        lines.append(
            f"{summary['rep']:<30} {summary['capacity']:>8} {summary['book_before']:>7} {summary['adds']:>5} "
            f"{summary['book_after']:>6}  {tiers}"
        )
    return lines


class Command(BaseCommand):
    help = "Fill each eligible SDR's book up to capacity from the pool (best score first, a fair mix of tiers)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show the plan and change nothing.")
        parser.add_argument("--team", help="Only this team's SDRs (team name).")
        parser.add_argument("--segment", help=f"Only SDRs of this segment ({', '.join(Segment.values)}).")
        parser.add_argument("--play", help="Run as this targeted play (its name): hand out the play's set, not the enrolled accounts.")

    def handle(self, *args, **options):
        team = None
        if options["team"]:
            team = Team.objects.filter(name__iexact=options["team"].strip()).first()
            if team is None:
                names = ", ".join(Team.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"Unknown team “{options['team']}”; existing teams: {names}.")
        segment = options["segment"]
        if segment and segment not in Segment.values:
            raise CommandError(f"Unknown segment “{segment}”; expected one of {', '.join(Segment.values)}.")
        play = None
        if options["play"]:
            play = TargetedPlay.objects.filter(name__iexact=options["play"].strip(), active=True).first()
            if play is None:
                names = ", ".join(TargetedPlay.objects.filter(active=True).values_list("name", flat=True)) or "none"
                raise CommandError(f"Unknown targeted play “{options['play']}”; active plays: {names}.")
        result = distribution_run(team=team, segment=segment, dry_run=options["dry_run"], play=play)
        if options["dry_run"]:
            rows = result
            for line in plan_table(rows):
                self.stdout.write(line)
            self.stdout.write(f"Dry run: {sum(len(r.adds) for r in rows)} account(s) would be assigned; nothing changed.")
            return
        for line in plan_table_from_summary(result.summary):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Distribution {result.pk}: {result.lines.count()} account(s) assigned."))


def plan_table_from_summary(summary: list[dict]) -> list[str]:
    lines = [f"{'rep':<30} {'capacity':>8} {'before':>7} {'adds':>5} {'after':>6}  tiers"]
    for s in summary:
        tiers = " ".join(f"{tier}:{n}" for tier, n in s["tiers"].items())
        lines.append(f"{s['rep']:<30} {s['capacity']:>8} {s['book_before']:>7} {s['adds']:>5} {s['book_after']:>6}  {tiers}")
    return lines
