"""Contacts and reps files (the machinery is in apps.accounts.imports)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from apps.accounts.domains import is_webmail, matching_key
from apps.accounts.imports.accounts import _normalized
from apps.accounts.imports.base import (
    Progress,
    RowProblem,
    Validated,
    check_length,
    choice_lookup,
    closest_names,
    copy_rows,
    parse_choice,
    parse_date,
    parse_non_negative_decimal,
    parse_non_negative_int,
    raw_cursor,
)
from apps.accounts.imports.reading import CsvTable, RowError
from apps.accounts.selectors import webmail_extra_domains
from apps.people.contact_fields import normalize_linkedin_url, normalize_phone
from apps.people.models import Contact, Rep, Team
from apps.people.roles import ROLE_GROUP
from apps.people.selectors import normalize_owner_name

BUYING_ROLES = choice_lookup(Contact.BuyingRole.choices)
SOURCES = choice_lookup(Contact.Source.choices)
ROLES = choice_lookup(Rep.Role.choices)


def _problems_to_errors(line: int, problems: list[RowProblem]) -> list[RowError]:
    return [RowError(line, p.column, p.value, p.message) for p in problems]


class ContactImporter:
    """Contacts are keyed by email (lower case). Without `account_domain` a contact joins
    the account whose matching key equals its email's; webmail addresses need the column."""

    kind = "contacts"
    columns = ["first_name", "last_name", "email", "title", "persona", "buying_role", "source", "account_domain",
               "phone", "linkedin_url"]
    required = [["email"]]

    def __init__(self, table: CsvTable, *, actor=None, progress: Progress | None = None):
        self.table, self.actor, self.progress = table, actor, progress
        self.warnings: list[str] = []

    def validate(self) -> Validated:
        table, has = self.table, self.table.has
        webmail_extra = webmail_extra_domains()
        seen: dict[str, int] = {}
        result = Validated()
        approximate = table.approximate_rows
        for count, (line, _cells, values) in enumerate(table.rows(), start=1):
            result.total += 1
            if self.progress and count % 5000 == 0:
                self.progress(count, approximate, "Checking rows")
            problems: list[RowProblem] = []
            if "__too_many_cells__" in values:
                problems.append(RowProblem("", "", f"the row has {values['__too_many_cells__']} cells but the header has {len(table.header)}"))
            email = values["email"].lower()
            email_domain = None
            if not email:
                problems.append(RowProblem("email", "", "an email address is required"))
            else:
                try:
                    validate_email(email)
                except ValidationError:
                    problems.append(RowProblem("email", values["email"], "expected an email address like jane@example.com"))
                else:
                    email_domain, why = _normalized(email.rsplit("@", 1)[1])
                    earlier = seen.get(email)
                    if email_domain is None:
                        # Well formed, but its domain is refused (a public suffix, an unknown
                        # top-level domain): say which, as the accounts file does.
                        problems.append(RowProblem("email", values["email"], f"{why} An address at the company's domain is expected."))
                    elif earlier is not None:
                        problems.append(RowProblem("email", values["email"], f"{email} appears twice in the file; it is already on line {earlier}"))
                    else:
                        seen[email] = line
            explicit, lookup_domain = False, None
            raw_account = values.get("account_domain") or ""
            if raw_account:
                explicit = True
                lookup_domain, why = _normalized(raw_account)
                if lookup_domain is None:
                    problems.append(RowProblem("account_domain", raw_account, f"{why} A domain like example.com is expected."))
            elif email_domain is not None:
                if is_webmail(email_domain, webmail_extra):
                    problems.append(RowProblem(
                        "email", values["email"],
                        f"{email_domain} is a webmail address, so it cannot pick the account; give account_domain",
                    ))
                else:
                    lookup_domain = email_domain
            cells = {}
            for key, limit in (("first_name", 100), ("last_name", 100), ("title", 200), ("persona", 100)):
                if has(key):
                    try:
                        cells[key] = check_length(key, values[key], limit)
                    except RowProblem as problem:
                        problems.append(problem)
            # Phone and LinkedIn: the same checks and normal form as the admin form's.
            for key, normalize in (("phone", normalize_phone), ("linkedin_url", normalize_linkedin_url)):
                if has(key) and values[key]:
                    try:
                        cells[key] = normalize(values[key])
                    except ValidationError as error:
                        problems.append(RowProblem(key, values[key], error.messages[0]))
            try:
                if has("buying_role"):
                    cells["buying_role"] = parse_choice("buying_role", values["buying_role"], BUYING_ROLES, Contact.BuyingRole.choices)
            except RowProblem as problem:
                problems.append(problem)
            try:
                if has("source"):
                    cells["source"] = parse_choice("source", values["source"], SOURCES, Contact.Source.choices)
            except RowProblem as problem:
                problems.append(problem)
            if problems:
                result.errors.extend(_problems_to_errors(line, problems))
                continue
            result.rows.append((
                line, email, cells.get("first_name"), cells.get("last_name"), cells.get("title"), cells.get("persona"),
                cells.get("buying_role"), cells.get("source"), explicit, lookup_domain,
                matching_key(lookup_domain) if lookup_domain else None, raw_account,
                cells.get("phone"), cells.get("linkedin_url"),
            ))
        return result

    def stage(self, cursor, validated: Validated) -> list[RowError]:
        cursor.execute(
            """
            DROP TABLE IF EXISTS pg_temp.import_contact_stage;
            CREATE TEMP TABLE import_contact_stage (
                line integer PRIMARY KEY, email text, first_name text, last_name text, title text, persona text,
                buying_role text, source text, explicit boolean, lookup_domain text, lookup_key text,
                raw_account text, phone text, linkedin_url text, account_id bigint
            ) ON COMMIT DROP
            """
        )
        copy_rows(raw_cursor(cursor), "import_contact_stage", [
            "line", "email", "first_name", "last_name", "title", "persona", "buying_role", "source",
            "explicit", "lookup_domain", "lookup_key", "raw_account", "phone", "linkedin_url",
        ], validated.rows)
        # The account: its exact domain, then an exact alias, then (email-derived only) the
        # matching key of an account or alias; the oldest account wins a tie.
        cursor.execute(
            """
            CREATE INDEX ON import_contact_stage (email);
            ANALYZE import_contact_stage;
            UPDATE import_contact_stage s SET account_id = COALESCE(
                (SELECT a.id FROM accounts_account a WHERE a.domain = s.lookup_domain),
                (SELECT al.account_id FROM accounts_domainalias al WHERE al.domain = s.lookup_domain),
                CASE WHEN NOT s.explicit THEN
                    (SELECT min(a.id) FROM accounts_account a WHERE a.matching_key = s.lookup_key) END,
                CASE WHEN NOT s.explicit THEN
                    (SELECT min(al.account_id) FROM accounts_domainalias al WHERE al.matching_key = s.lookup_key) END)
             WHERE s.lookup_domain IS NOT NULL;
            """
        )
        cursor.execute(
            "SELECT line, raw_account, lookup_domain FROM import_contact_stage WHERE explicit AND account_id IS NULL"
        )
        errors = [
            RowError(line, "account_domain", raw, f"no account has the domain {domain} (as its domain or an alias); import the account first")
            for line, raw, domain in cursor.fetchall()
        ]
        cursor.execute("SELECT count(*) FROM import_contact_stage WHERE account_id IS NULL AND NOT explicit")
        orphans = cursor.fetchone()[0]
        if orphans:
            self.warnings.append(f"{orphans} contact(s) matched no account by their email's domain and have no account.")
        return errors

    def drop(self, cursor, lines: set[int]) -> None:
        cursor.execute("DELETE FROM import_contact_stage WHERE line = ANY(%s)", [sorted(lines)])

    def write(self, cursor) -> tuple[int, int]:
        has = self.table.has
        now = timezone.now()
        old, new, sets = [], [], []
        for column in ("first_name", "last_name", "title", "persona"):
            if has(column):
                old.append(f"c.{column}")
                new.append(f"s.{column}")
                sets.append(f"{column} = s.{column}")
        for column in ("buying_role", "source", "account_id", "phone", "linkedin_url"):
            # Empty keeps what the contact has: an import never detaches a contact from its account.
            # An empty phone or LinkedIn cell likewise keeps the one on file.
            if column == "account_id" or has(column):
                old.append(f"c.{column}")
                new.append(f"COALESCE(s.{column}, c.{column})")
                sets.append(f"{column} = COALESCE(s.{column}, c.{column})")
        cursor.execute(
            f"""
            UPDATE people_contact AS c SET {', '.join(sets)}, updated_at = %s
              FROM import_contact_stage s
             WHERE c.email = s.email AND ROW({', '.join(old)}) IS DISTINCT FROM ROW({', '.join(new)})
            """,
            [now],
        )
        updated = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO people_contact (first_name, last_name, email, title, persona, buying_role, source,
                                        account_id, phone, linkedin_url, created_at, updated_at)
            SELECT COALESCE(s.first_name, ''), COALESCE(s.last_name, ''), s.email, COALESCE(s.title, ''),
                   COALESCE(s.persona, ''), COALESCE(s.buying_role, %s), COALESCE(s.source, %s), s.account_id,
                   COALESCE(s.phone, ''), COALESCE(s.linkedin_url, ''), %s, %s
              FROM import_contact_stage s
             WHERE NOT EXISTS (SELECT 1 FROM people_contact c WHERE c.email = s.email)
             ORDER BY s.line
            """,
            [Contact.BuyingRole.OTHER, Contact.Source.OUTBOUND, now, now],
        )
        return cursor.rowcount, updated


class RepImporter:
    """Reps are keyed by owner name (case and runs of spaces ignored). A few hundred rows
    at most, so rows are written with the ORM: a new rep needs its user and role group."""

    kind = "reps"
    columns = ["owner_name", "email", "role", "team", "manager", "capacity", "weight", "ramp_start"]
    required = [["owner_name"]]

    def __init__(self, table: CsvTable, *, actor=None, progress: Progress | None = None):
        self.table, self.actor, self.progress = table, actor, progress
        self.warnings: list[str] = []

    def validate(self) -> Validated:
        table, has = self.table, self.table.has
        existing = {normalize_owner_name(name).lower(): name for name in Rep.objects.values_list("owner_name", flat=True)}
        rows = list(table.rows())
        # A manager may be an existing rep or a rep further down the same file.
        known_names = dict(existing)
        for _line, _cells, values in rows:
            name = normalize_owner_name(values["owner_name"])
            known_names.setdefault(name.lower(), name)
        known_names.pop("", None)
        result = Validated()
        seen: dict[str, int] = {}
        for line, _cells, values in rows:
            result.total += 1
            problems: list[RowProblem] = []
            if "__too_many_cells__" in values:
                problems.append(RowProblem("", "", f"the row has {values['__too_many_cells__']} cells but the header has {len(table.header)}"))
            owner_name = normalize_owner_name(values["owner_name"])
            key = owner_name.lower()
            if not owner_name:
                problems.append(RowProblem("owner_name", "", "an owner name (the rep's full name) is required"))
            elif key in seen:
                problems.append(RowProblem("owner_name", values["owner_name"], f"{owner_name} appears twice in the file; it is already on line {seen[key]}"))
            else:
                seen[key] = line
            try:
                check_length("owner_name", owner_name, 150)
            except RowProblem as problem:
                problems.append(problem)
            cells: dict = {}
            if has("email"):
                email = values["email"].lower()
                if email:
                    try:
                        validate_email(email)
                    except ValidationError:
                        problems.append(RowProblem("email", values["email"], "expected an email address like jane@example.com"))
                cells["email"] = email
            for key_, parse in (
                ("role", lambda raw: parse_choice("role", raw, ROLES, Rep.Role.choices)),
                ("capacity", lambda raw: parse_non_negative_int("capacity", raw)),
                ("weight", lambda raw: parse_non_negative_decimal("weight", raw, max_digits=6, decimal_places=2)),
                ("ramp_start", lambda raw: parse_date("ramp_start", raw)),
                ("team", lambda raw: check_length("team", raw, 100)),
            ):
                if has(key_):
                    try:
                        cells[key_] = parse(values[key_])
                    except RowProblem as problem:
                        problems.append(problem)
            if has("manager"):
                manager = normalize_owner_name(values["manager"])
                if manager and manager.lower() not in known_names:
                    close = closest_names(manager.lower(), known_names)
                    problems.append(RowProblem("manager", values["manager"], f"no rep has this owner name; closest owner names: {', '.join(close)}"))
                elif manager and manager.lower() == key:
                    problems.append(RowProblem("manager", values["manager"], "a rep cannot be their own manager"))
                cells["manager"] = manager.lower() or None
            if problems:
                result.errors.extend(_problems_to_errors(line, problems))
                continue
            result.rows.append((line, owner_name, cells))
        return result

    def stage(self, cursor, validated: Validated) -> list[RowError]:
        self.staged = {line: (name, cells) for line, name, cells in validated.rows}
        return []

    def drop(self, cursor, lines: set[int]) -> None:
        for line in lines:
            self.staged.pop(line, None)
        # A rep whose manager row was rejected keeps the manager only if it already exists.

    def write(self, cursor) -> tuple[int, int]:
        User = get_user_model()
        reps = {
            normalize_owner_name(rep.owner_name).lower(): rep
            for rep in Rep.objects.select_for_update(of=("self",)).select_related("user", "team").order_by("pk")
        }
        teams = {team.name.lower(): team for team in Team.objects.all()}
        groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in ROLE_GROUP.items()}
        new_ids: set[int] = set()
        changed_ids: set[int] = set()
        for _line, (owner_name, cells) in sorted(self.staged.items()):
            key = owner_name.lower()
            rep = reps.get(key)
            team = None
            if cells.get("team"):
                team = teams.get(cells["team"].lower())
                if team is None:
                    team = Team.objects.create(name=cells["team"])
                    teams[team.name.lower()] = team
                    self.warnings.append(f"Created the team “{team.name}”.")
            if rep is None:
                email = cells.get("email") or ""
                base = (email or owner_name.replace(" ", ".").lower())[:140]
                username, n = base, 1
                while User.objects.filter(username=username).exists():
                    n += 1
                    username = f"{base}-{n}"
                name_parts = owner_name.split(" ", 1)
                user = User(username=username, email=email, first_name=name_parts[0][:150],
                            last_name=(name_parts[1] if len(name_parts) > 1 else "")[:150], is_staff=True)
                user.set_unusable_password()
                user.save()
                rep = Rep(user=user, owner_name=owner_name)
                self._apply(rep, cells, team)
                rep.save()
                user.groups.add(groups[rep.role])
                reps[key] = rep
                new_ids.add(rep.pk)
                continue
            before_role = rep.role
            if self._apply(rep, cells, team):
                rep.save()
                changed_ids.add(rep.pk)
            if before_role != rep.role:
                rep.user.groups.remove(groups[before_role])
                rep.user.groups.add(groups[rep.role])
            if "email" in cells and cells["email"] != rep.user.email.lower():
                rep.user.email = cells["email"]
                rep.user.save(update_fields=["email"])
                changed_ids.add(rep.pk)
        for _line, (owner_name, cells) in sorted(self.staged.items()):
            if "manager" not in cells:
                continue
            rep = reps[owner_name.lower()]
            manager = reps.get(cells["manager"]) if cells["manager"] else None
            if cells["manager"] and manager is None:
                continue  # its row was rejected: leave the manager as it is
            manager_id = manager.pk if manager else None
            if rep.manager_id != manager_id:
                rep.manager_id = manager_id
                rep.save(update_fields=["manager"])
                changed_ids.add(rep.pk)
        return len(new_ids), len(changed_ids - new_ids)

    @staticmethod
    def _apply(rep: Rep, cells: dict, team: Team | None) -> bool:
        """Copy the row's values onto `rep`; True when anything differs. Empty role,
        capacity or weight keep what the rep has."""
        wanted: dict = {}
        if cells.get("role"):
            wanted["role"] = cells["role"]
        if cells.get("capacity") is not None:
            wanted["capacity"] = cells["capacity"]
        if cells.get("weight") is not None:
            wanted["routing_weight"] = Decimal(cells["weight"])
        if "ramp_start" in cells:
            wanted["ramp_start"] = cells["ramp_start"]
        if "team" in cells:
            wanted["team_id"] = team.pk if team else None
        changed = False
        for attribute, value in wanted.items():
            if getattr(rep, attribute) != value:
                setattr(rep, attribute, value)
                changed = True
        return changed
