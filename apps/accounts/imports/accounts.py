"""Accounts file: validate each row in Python, stage with COPY, check and upsert with SQL.

Per row, Python does what only Python can (domain normalization through
apps.accounts.domains, number parsing, owner-name matching); the rows then go into a
temporary staging table with one COPY, and conflicts with other accounts, the update of
changed accounts, the insert of new ones and the new aliases are each one statement. New
accounts are inserted with their first owner, recorded by `account_owners_record_created`;
owner changes of existing accounts go through `account_owners_set` once. Each writes its
ownership event.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.domains import is_webmail, matching_key, normalize_domain
from apps.accounts.imports.base import (
    Progress,
    RowProblem,
    Validated,
    check_length,
    choice_lookup,
    closest_names,
    copy_rows,
    parse_choice,
    parse_non_negative_decimal,
    parse_non_negative_int,
    raw_cursor,
)
from apps.accounts.imports.digests import Stored, chunked, row_digester, stored_digests
from apps.accounts.imports.halves import PARALLEL_ABOVE, SecondHalf
from apps.accounts.imports.reading import CsvTable, RowError
from apps.accounts.models import Account, OwnershipReason
from apps.accounts.selectors import webmail_extra_domains
from apps.accounts.services import (
    account_owner_columns_sql,
    account_owners_record_created,
    account_owners_set,
)
from apps.icps.services import accounts_rescore_later
from apps.people.models import Rep, Segment
from apps.people.selectors import normalize_owner_name

COLUMNS = [
    "name", "website", "domain", "industry", "employees", "annual_revenue", "country",
    "segment", "status", "company_owner", "domain_aliases",
]
REQUIRED = [["name"], ["website", "domain"]]
SEGMENTS = choice_lookup(Segment.choices)
STATUSES = choice_lookup(Account.Status.choices)
PROGRESS_EVERY = 5000
ANALYZE_ABOVE = 5000
IMPORT_WORK_MEM = "64MB"


@lru_cache(maxsize=262_144)
def _normalized(value: str) -> tuple[str | None, str | None]:
    """(domain, None) or (None, why not); cached because CRM files repeat hosts a lot."""
    try:
        return normalize_domain(value), None
    except ValidationError as error:
        return None, " ".join(error.messages)


def owner_lookup() -> dict[str, tuple[int, str]]:
    """Every rep by the key `company_owner` is matched on: case and runs of spaces ignored."""
    return {
        normalize_owner_name(name).lower(): (pk, name)
        for pk, name in Rep.objects.values_list("pk", "owner_name")
    }


class AccountImporter:
    kind = "accounts"
    columns = COLUMNS
    required = REQUIRED

    def __init__(self, table: CsvTable, *, actor=None, progress: Progress | None = None):
        self.table = table
        self.actor = actor
        self.progress = progress
        self.staged = False

    # -- pass 1: each row on its own, and against the rows above it ---------------------
    def validate(self) -> Validated:
        table = self.table
        has = table.has
        domain_column = "domain" if has("domain") else "website"
        webmail_extra = webmail_extra_domains()
        owners = owner_lookup()
        owner_names = {key: name for key, (_pk, name) in owners.items()}
        suggestions: dict[str, list[str]] = {}
        seen: dict[str, int] = {}  # domain or alias → first line that used it
        result = Validated()
        aliases: list[tuple] = []
        approximate = table.approximate_rows
        check_webmail = is_webmail

        def domain_of(column: str, raw: str, line: int) -> str:
            domain, problem = _normalized(raw)
            if domain is None:
                raise RowProblem(column, raw, f"{problem} A website or domain like example.com is expected.")
            if check_webmail(domain, webmail_extra):
                raise RowProblem(column, raw, f"{domain} is a webmail domain; expected the company's own domain")
            earlier = seen.get(domain)
            if earlier is not None and earlier != line:
                raise RowProblem(column, raw, f"{domain} appears twice in the file; it is already on line {earlier}")
            seen[domain] = line
            return domain

        segment_choices, status_choices = Segment.choices, Account.Status.choices
        # Each parse remembered per raw cell for this file (columns like segment, country or
        # employees repeat a few values over 100,000 rows), looked up here without a call; a
        # cell that fails is parsed (and fails) again, so every bad line gets its error.
        parsers = [
            (key, {}, parse)
            for key, parse in (
                ("industry", lambda raw: check_length("industry", raw, 100)),
                ("country", lambda raw: check_length("country", raw, 100)),
                ("employees", lambda raw: parse_non_negative_int("employees", raw)),
                ("annual_revenue", lambda raw: parse_non_negative_decimal("annual_revenue", raw)),
                ("segment", lambda raw: parse_choice("segment", raw, SEGMENTS, segment_choices)),
                ("status", lambda raw: parse_choice("status", raw, STATUSES, status_choices)),
            )
            if has(key)
        ]
        def unchanged(line: int, values: dict[str, str], stored: Stored) -> bool:
            """A row an account still holds the digest of (digests.py): only the checks that
            depend on the rest of the file or on what changed since; True when all pass (the
            row would change nothing), False to check it in full (same messages)."""
            domain = stored.domain
            if "__too_many_cells__" in values or check_webmail(domain, webmail_extra) \
                    or seen.get(domain, line) != line:
                return False
            row_aliases = []
            for raw_alias in (values.get("domain_aliases") or "").split(";"):
                raw_alias = raw_alias.strip()
                if not raw_alias:
                    continue
                alias, _why = _normalized(raw_alias)
                if alias is None:
                    return False
                if alias == domain or alias in row_aliases:
                    continue
                if alias not in stored.aliases or check_webmail(alias, webmail_extra) \
                        or seen.get(alias, line) != line:
                    return False
                row_aliases.append(alias)
            raw_owner = values.get("company_owner") or ""
            if raw_owner and (owners.get(normalize_owner_name(raw_owner).lower()) or (None,))[0] != stored.owner_id:
                return False
            seen[domain] = line
            seen.update((alias, line) for alias in row_aliases)
            return True

        digest_of = row_digester([column for column in COLUMNS if has(column)])
        digests_seen: set[bytes] = set()
        progress = self.progress
        held = 0  # rows an account still holds the digest of, so far

        def check(rows, lookup, report: bool = True) -> None:
            nonlocal held
            for chunk in chunked((line, values, digest_of(values)) for line, _cells, values in rows):
                stored = lookup([digest for _line, _values, digest in chunk])
                for line, values, digest in chunk:
                    result.total += 1
                    if report and progress and result.total % PROGRESS_EVERY == 0:
                        progress(result.total, approximate, "Checking rows")
                    match = stored.get(digest) if digest not in digests_seen else None
                    digests_seen.add(digest)
                    if match is not None:
                        held += 1
                        if unchanged(line, values, match):
                            continue  # would change nothing: not staged
                    problems: list[RowProblem] = []
                    if "__too_many_cells__" in values:
                        problems.append(RowProblem("", "", f"the row has {values['__too_many_cells__']} cells but the header has {len(table.header)}"))
                    name = values["name"]
                    if not name:
                        problems.append(RowProblem("name", "", "an account name is required"))
                    raw_domain = values.get("domain") or ""
                    column = "domain"
                    if not raw_domain:
                        raw_domain, column = values.get("website") or "", ("website" if has("website") else domain_column)
                    domain = None
                    if not raw_domain:
                        problems.append(RowProblem(column, "", "a website or domain is required (like example.com)"))
                    else:
                        try:
                            domain = domain_of(column, raw_domain, line)
                        except RowProblem as problem:
                            problems.append(problem)
                    row_aliases = []
                    if values.get("domain_aliases"):
                        for raw_alias in values["domain_aliases"].split(";"):
                            raw_alias = raw_alias.strip()
                            if not raw_alias:
                                continue
                            alias, _why = _normalized(raw_alias)
                            if alias is not None and (alias == domain or alias in row_aliases):
                                continue
                            try:
                                row_aliases.append(domain_of("domain_aliases", raw_alias, line))
                            except RowProblem as problem:
                                problems.append(problem)
                    try:
                        check_length("name", name, 255)
                        website = check_length("website", values["website"], 500) if has("website") else None
                    except RowProblem as problem:
                        problems.append(problem)
                        website = None
                    cells = {}
                    for key, parsed, parse in parsers:
                        raw = values[key]
                        try:
                            cells[key] = parsed[raw]
                        except KeyError:
                            try:
                                cells[key] = parsed[raw] = parse(raw)
                            except RowProblem as problem:
                                problems.append(problem)
                    owner_id = None
                    raw_owner = values.get("company_owner") or ""
                    if raw_owner:
                        key = normalize_owner_name(raw_owner).lower()
                        found = owners.get(key)
                        if found is None:
                            if key not in suggestions:
                                suggestions[key] = closest_names(key, owner_names)
                            close = suggestions[key]
                            hint = f"closest owner names: {', '.join(close)}" if close else "there are no reps yet; import reps first"
                            problems.append(RowProblem("company_owner", raw_owner, f"no rep has this owner name; {hint}"))
                        else:
                            owner_id = found[0]
                    if problems:
                        result.errors.extend(RowError(line, p.column, p.value, p.message) for p in problems)
                        continue
                    result.rows.append((
                        line, name, website, domain, matching_key(domain),
                        cells.get("industry"), cells.get("employees"), cells.get("annual_revenue"), cells.get("country"),
                        cells.get("segment"), cells.get("status"), owner_id, digest,
                    ))
                    aliases.extend((line, domain, alias, matching_key(alias)) for alias in row_aliases)

        # A big file's second half is checked by a copy of this process meanwhile (halves.py);
        # when what it found could differ from checking it here, it is checked here after all.
        second_half = SecondHalf.start(table, check, result, aliases, seen, digests_seen) \
            if approximate > PARALLEL_ABOVE else None
        if second_half is None:
            check(table.rows(), stored_digests)
        else:
            try:
                check(table.rows(through_line=second_half.after_line), stored_digests)
                # A first half whose rows accounts hold is a re-import: so is the second half,
                # most likely, whose findings from the copy would not be taken; don't wait for them.
                merged = not held and second_half.merge_into(result, aliases, seen)
            finally:
                second_half.close()
            if not merged:
                check(table.rows(after_line=second_half.after_line), stored_digests)
        self.aliases = aliases
        return result

    # -- pass 2: against the database, set-based -----------------------------------------
    def stage(self, cursor, validated: Validated) -> list[RowError]:
        self.staged = bool(validated.rows)
        if not self.staged:
            return []  # every good row unchanged (or none): nothing to check or write
        if self.progress:
            self.progress(0, 0, "Staging rows")
        # The default 4 MB made the sort and hashes of a 100,000-row import spill to disk
        # (an external merge of 24 MB under the new accounts' INSERT); for this transaction only.
        cursor.execute(
            f"""
            SET LOCAL work_mem = '{IMPORT_WORK_MEM}';
            DROP TABLE IF EXISTS pg_temp.import_account_stage, pg_temp.import_alias_stage, pg_temp.import_account_ids;
            CREATE TEMP TABLE import_account_stage (
                line integer PRIMARY KEY, name text, website text, domain text, matching_key text,
                industry text, employees integer, annual_revenue numeric(16, 2), country text,
                segment text, status text, owner_id bigint, digest bytea
            ) ON COMMIT DROP;
            CREATE TEMP TABLE import_alias_stage (
                line integer, account_domain text, domain text, matching_key text, present boolean DEFAULT false
            ) ON COMMIT DROP;
            """
        )
        pg = raw_cursor(cursor)
        copy_rows(pg, "import_account_stage", [
            "line", "name", "website", "domain", "matching_key", "industry", "employees",
            "annual_revenue", "country", "segment", "status", "owner_id", "digest",
        ], validated.rows)
        copy_rows(pg, "import_alias_stage", ["line", "account_domain", "domain", "matching_key"], self.aliases)
        self.aliases = []
        # No index on the staged domains: every statement below joins them by hashing (or
        # looks each one up in the accounts' own index); building one cost more than it saved.
        # Statistics of the columns the statements below join and filter on only: of every
        # column, they took 0.17 s of a 100,000-row import.
        cursor.execute(
            "ANALYZE import_account_stage (line, domain, owner_id);"
            " ANALYZE import_alias_stage (line, domain, account_domain);"
        )
        if len(validated.rows) > ANALYZE_ABOVE:
            # Statistics from before a recent bulk load make the planner pick nested-loop scans
            # (a re-import right after a first import took minutes); sampling takes a moment,
            # so tables whose statistics are still current (under 10% of rows changed since
            # they were taken, as after an import's own ANALYZE) are left as they are.
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('accounts_account', 'accounts_domainalias')"
                " AND (last_analyze IS NULL AND last_autoanalyze IS NULL OR n_mod_since_analyze > 0.1 * n_live_tup)"
            )
            stale = [row[0] for row in cursor.fetchall()]
            if stale:
                cursor.execute(f"ANALYZE {', '.join(sorted(stale))}")
        if self.progress:
            self.progress(0, 0, "Checking against the database")
        errors = []
        domain_column = "domain" if self.table.has("domain") else "website"
        cursor.execute(
            """
            SELECT s.line, s.domain, a.name, a.id
              FROM import_account_stage s
              JOIN accounts_domainalias al ON al.domain = s.domain
              JOIN accounts_account a ON a.id = al.account_id
            """
        )
        for line, domain, holder, holder_id in cursor.fetchall():
            errors.append(RowError(line, domain_column, domain,
                                   f"{domain} already belongs to the account “{holder}” (id {holder_id}) as an alias"))
        cursor.execute(
            """
            SELECT st.line, st.domain, a.name, a.id
              FROM import_alias_stage st
              JOIN accounts_account a ON a.domain = st.domain
            UNION ALL
            SELECT st.line, st.domain, a.name, a.id
              FROM import_alias_stage st
              JOIN accounts_domainalias al ON al.domain = st.domain
              JOIN accounts_account a ON a.id = al.account_id
             WHERE a.domain IS DISTINCT FROM st.account_domain
            """
        )
        for line, domain, holder, holder_id in cursor.fetchall():
            errors.append(RowError(line, "domain_aliases", domain,
                                   f"{domain} already belongs to the account “{holder}” (id {holder_id})"))
        return errors

    def drop(self, cursor, lines: set[int]) -> None:
        if not self.staged:
            return
        cursor.execute("DELETE FROM import_account_stage WHERE line = ANY(%s)", [sorted(lines)])
        cursor.execute("DELETE FROM import_alias_stage WHERE line = ANY(%s)", [sorted(lines)])

    def write(self, cursor) -> tuple[int, int]:
        if not self.staged:
            return 0, 0
        has = self.table.has
        now = timezone.now()
        if self.progress:
            self.progress(0, 0, "Writing accounts")
        old, new, sets = ["a.name"], ["s.name"], ["name = s.name"]
        for column in ("website", "industry", "country"):
            if has(column):
                old.append(f"a.{column}")
                new.append(f"s.{column}")
                sets.append(f"{column} = s.{column}")
        for column in ("employees", "annual_revenue"):
            if has(column):
                old.append(f"a.{column}")
                new.append(f"s.{column}")
                sets.append(f"{column} = s.{column}")
        for column in ("segment", "status"):
            # An empty choice keeps what the account has (a new one gets the default).
            if has(column):
                old.append(f"a.{column}")
                new.append(f"COALESCE(s.{column}, a.{column})")
                sets.append(f"{column} = COALESCE(s.{column}, a.{column})")
        # Which rows are new is settled before writing (an anti-join against the table being
        # inserted into degrades to a rescan per row when the planner thinks it is small), and
        # new accounts get their ids from the table's own sequence up front (in file order), so
        # the aliases and owner changes below join on line numbers without looking them up.
        # An insert-only table of its own: updating the staging rows rewrote every one of them.
        # The sequence's name is looked up once: pg_get_serial_sequence is not folded into a
        # constant, and called per row it was two thirds of this statement (0.19 s a 100,000).
        cursor.execute("SELECT pg_get_serial_sequence('accounts_account', 'id')::regclass::oid")
        sequence = cursor.fetchone()[0]
        cursor.execute(
            f"""
            CREATE TEMP TABLE import_account_ids ON COMMIT DROP AS
            SELECT s.line, COALESCE(a.id, nextval({int(sequence)}::oid::regclass)) AS account_id,
                   a.id IS NULL AS is_new
              FROM import_account_stage s LEFT JOIN accounts_account a ON a.domain = s.domain
             ORDER BY s.line;
            CREATE UNIQUE INDEX ON import_account_ids (line);
            ANALYZE import_account_ids;
            UPDATE import_alias_stage st SET present = true FROM accounts_domainalias x WHERE x.domain = st.domain;
            """
        )
        # A row that changes nothing still leaves its digest, so the next import of the same
        # row skips its checks (apps.accounts.imports.digests); only a real change counts.
        # (Compared in a subquery: RETURNING would see the new values.)
        cursor.execute(
            f"""
            UPDATE accounts_account AS a
               SET {', '.join(sets)}, import_digest = s.digest,
                   updated_at = CASE WHEN s.differs THEN %s ELSE a.updated_at END
              FROM (SELECT s.*, i.account_id AS target_id,
                           ROW({', '.join(old)}) IS DISTINCT FROM ROW({', '.join(new)}) AS differs
                      FROM import_account_stage s
                      JOIN import_account_ids i ON i.line = s.line
                      JOIN accounts_account a ON a.id = i.account_id
                     WHERE NOT i.is_new) AS s
             WHERE a.id = s.target_id AND (s.differs OR a.import_digest IS DISTINCT FROM s.digest)
            RETURNING a.id, s.differs
            """,
            [now],
        )
        changed = {pk for pk, differed in cursor.fetchall() if differed}
        cursor.execute("SELECT account_id FROM import_account_ids WHERE is_new")
        inserted = {row[0] for row in cursor.fetchall()}
        if self.progress:
            self.progress(0, 0, "Inserting new accounts")
        if inserted:
            # New accounts are inserted with their first owner (or in the pool) and the
            # ownership service records those owners below: moving them after the insert
            # would rewrite every new row and its index entries a second time.
            owner = account_owner_columns_sql(rep="r", at="%(now)s")
            cursor.execute(
                f"""
                INSERT INTO accounts_account (
                    id, name, website, domain, matching_key, keep_subdomain, industry, employees, annual_revenue,
                    country, region, technologies, segment, status, fit_score, opportunity_score,
                    readiness_score, total_score, tier, quadrant, created_at, updated_at, import_digest,
                    {", ".join(owner)})
                SELECT i.account_id, s.name, COALESCE(s.website, ''), s.domain, s.matching_key, false,
                       COALESCE(s.industry, ''), s.employees, s.annual_revenue, COALESCE(s.country, ''), '', '{{}}',
                       COALESCE(s.segment, %(segment)s), COALESCE(s.status, %(status)s), 0, 0, 0, 0, '', '',
                       %(now)s, %(now)s, s.digest, {", ".join(owner.values())}
                  FROM import_account_stage s
                  JOIN import_account_ids i ON i.line = s.line
                  LEFT JOIN people_rep r ON r.id = s.owner_id
                 WHERE i.is_new
                 ORDER BY i.account_id
                """,
                {"segment": Segment.SMB, "status": Account.Status.PROSPECT, "now": now},
            )
            # No ANALYZE of the accounts here (0.2-0.3 s of a 100,000-row import): the owner
            # recording below joins them by primary key from the analyzed id table, and the
            # planner sizes the table by its pages, not its last statistics. Autovacuum
            # analyzes it after the commit, and the next import analyzes first if it has not.
        if self.progress:
            self.progress(0, 0, "Adding aliases")
        cursor.execute(
            """
            INSERT INTO accounts_domainalias (account_id, domain, matching_key, created_at)
            SELECT i.account_id, st.domain, st.matching_key, %s
              FROM import_alias_stage st
              JOIN import_account_ids i ON i.line = st.line
             WHERE NOT st.present
            RETURNING account_id
            """,
            [now],
        )
        changed.update(row[0] for row in cursor.fetchall())
        if inserted and has("company_owner"):
            if self.progress:
                self.progress(0, 0, "Recording owners of new accounts")
            account_owners_record_created(
                account_ids=inserted, accounts_sql="SELECT account_id AS id FROM import_account_ids WHERE is_new",
                reason=OwnershipReason.IMPORT, actor=self.actor, note="CSV import", occurred_at=now,
            )
        if has("company_owner"):
            # Only accounts that existed before can still be moving: new ones have their owner.
            cursor.execute(
                """
                SELECT a.id, s.owner_id
                  FROM import_account_stage s
                  JOIN import_account_ids i ON i.line = s.line
                  JOIN accounts_account a ON a.id = i.account_id
                 WHERE NOT i.is_new AND s.owner_id IS NOT NULL AND a.owner_id IS DISTINCT FROM s.owner_id
                 ORDER BY a.id
                """
            )
            moves = cursor.fetchall()
            if moves:
                if self.progress:
                    self.progress(0, 0, "Recording owner changes")
                events = account_owners_set(
                    changes=moves, reason=OwnershipReason.IMPORT, actor=self.actor, note="CSV import"
                )
                changed.update(event.account_id for event in events)
        # Scores follow firmographics: new and changed accounts are rescored by a background
        # job once the import commits (in the import's own transaction it would rewrite every
        # new row a second time), so a distribution right after an import sees their tiers.
        accounts_rescore_later(account_ids=inserted | changed, reason="CSV import")
        return len(inserted), len(changed - inserted)
