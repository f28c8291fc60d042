"""`python manage.py route_leads FILE`: create inbound leads from a CSV file and route them.

Columns: email (required), first_name, last_name, title, account_domain (needed for a
webmail address), lead_type (inbound by default). All rows are checked first; any bad row
stops the run with its line number and nothing is written. Then each row goes through
apps.routing.intake.lead_intake in its own transaction, exactly as a lead posted to the API:
a lead that already has an open cycle (or, with --user, one outside that user's scope) is
reported on its own line and the rest of the file is routed.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from apps.accounts.domains import normalize_domain
from apps.accounts.imports.reading import FileRefused, read_table
from apps.leads.models import LeadType
from apps.routing.intake import lead_intake

COLUMNS = ["email", "first_name", "last_name", "title", "account_domain", "lead_type"]


def parse_leads(path: Path) -> tuple[list[dict], list[str]]:
    rows, errors, seen = [], [], {}
    try:  # the project's one CSV reader: encoding, delimiter, oversized cells, line numbers
        table = read_table(path.read_bytes(), known=COLUMNS)
        if not table.has("email"):
            return [], [f"line 1: the header must have an “email” column (allowed: {', '.join(COLUMNS)})."]
        for line, _cells, values in table.rows():
            row = {k: values.get(k, "") for k in COLUMNS}
            row["email"] = row["email"].lower()
            try:
                validate_email(row["email"])
            except ValidationError:
                errors.append(f"line {line}, email: “{row['email']}” is not an email address.")
                continue
            if row["email"] in seen:
                errors.append(f"line {line}, email: {row['email']} already on line {seen[row['email']]}.")
                continue
            seen[row["email"]] = line
            if row["account_domain"]:
                try:
                    row["account_domain"] = normalize_domain(row["account_domain"])
                except ValidationError as error:
                    errors.append(f"line {line}, account_domain: {' '.join(error.messages)}")
                    continue
            row["lead_type"] = row["lead_type"] or LeadType.INBOUND
            if row["lead_type"] not in LeadType.values:
                errors.append(f"line {line}, lead_type: “{row['lead_type']}”; expected one of {', '.join(LeadType.values)}.")
                continue
            row["line"] = line
            rows.append(row)
    except FileRefused as refusal:
        return [], refusal.messages
    return rows, errors


class Command(BaseCommand):
    help = "Create inbound leads from a CSV file and route each to its rep."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", help="Route as this user, within their scope (default: the system, company-wide).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        actor = None
        if options.get("user"):
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user “{options['user']}”.")
        rows, errors = parse_leads(path)
        if errors:
            raise CommandError("Nothing was routed:\n" + "\n".join(errors))
        counts: dict[str, int] = {}
        not_routed = 0
        for row in rows:
            try:
                result = lead_intake(
                    actor=actor, email=row["email"], account_domain=row["account_domain"], lead_type=row["lead_type"],
                    first_name=row["first_name"], last_name=row["last_name"], title=row["title"],
                )
            except ValidationError as error:
                not_routed += 1
                self.stdout.write(f"line {row['line']}: {row['email']}: {' '.join(error.messages)}")
                continue
            if not result.routed:
                not_routed += 1
                self.stdout.write(f"line {row['line']}: {result.detail}")
                continue
            decision = result.decision
            counts[decision.get_outcome_display()] = counts.get(decision.get_outcome_display(), 0) + 1
            if result.in_scope:
                self.stdout.write(f"{result.email}: {decision.rep or decision.get_outcome_display()} — {decision.explanation}")
            else:
                self.stdout.write(f"{result.email}: {result.detail}")
        routed = sum(counts.values())
        summary = ", ".join(f"{n} {label.lower()}" for label, n in sorted(counts.items()))
        tail = f"; {not_routed} not routed" if not_routed else ""
        self.stdout.write(self.style.SUCCESS(f"{routed} lead(s) routed: {summary or 'none'}{tail}."))
