"""What every kind of import shares: outcome, value parsers, the staging helpers."""

from __future__ import annotations

import datetime as dt
import difflib
import gc
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from apps.accounts.imports.reading import CsvTable, RowError

Progress = Callable[[int, int, str], None]


class RowProblem(Exception):
    """One cell is wrong; the importer turns it into a RowError with its line."""

    def __init__(self, column: str, value: str, message: str):
        super().__init__(message)
        self.column, self.value, self.message = column, value, message


@dataclass
class ImportOutcome:
    kind: str
    dry_run: bool = False
    skip_bad_rows: bool = False
    total_rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: bool = False
    rejects_csv: str | None = None

    @property
    def imported(self) -> bool:
        return not self.refused

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        if self.refused:
            if self.file_errors:
                return "Refused: " + " ".join(self.file_errors)
            return (
                f"Refused: {self.rejected} of {self.total_rows} rows have errors, so nothing was imported. "
                "Fix them, or import the good rows with “skip bad rows”."
            )
        text = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.rejected} rejected"
        return f"{text} ({self.total_rows} rows; changes {verb} written)." if self.dry_run else f"{text}."


_CHOICE_KEY = re.compile(r"[\s_\-]+")


def choice_lookup(choices: Iterable[tuple[str, str]]) -> dict[str, str]:
    """value and label, any case, spaces/hyphens/underscores ignored → value."""
    table = {}
    for value, label in choices:
        table[_CHOICE_KEY.sub("", value.lower())] = value
        table[_CHOICE_KEY.sub("", str(label).lower())] = value
    return table


def parse_choice(column: str, raw: str, lookup: dict[str, str], choices: Iterable[tuple[str, str]]) -> str | None:
    if not raw:
        return None
    value = lookup.get(_CHOICE_KEY.sub("", raw.lower()))
    if value is None:
        allowed = ", ".join(str(label) for _value, label in choices)
        raise RowProblem(column, raw, f"unknown {column.replace('_', ' ')}; expected one of: {allowed}")
    return value


def _number_text(raw: str) -> str:
    text = raw.replace("\u00a0", "").replace(" ", "").lstrip("$€£")
    # Thousands separators: 1,200 and 1,200,000.50 (commas in groups of three).
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    return text


def parse_non_negative_int(column: str, raw: str, *, maximum: int = 2_147_483_647) -> int | None:
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():  # the usual cell: what the general path makes of it
        value = int(raw)
        if value <= maximum:
            return value
        raise RowProblem(column, raw, f"too large; expected a whole number up to {maximum:,}")
    text = _number_text(raw)
    if re.fullmatch(r"\d+(\.0+)?", text):
        value = int(text.split(".")[0])
        if value <= maximum:
            return value
        raise RowProblem(column, raw, f"too large; expected a whole number up to {maximum:,}")
    raise RowProblem(column, raw, "expected a non-negative whole number (like 250 or 1,200)")


def parse_non_negative_decimal(
    column: str, raw: str, *, max_digits: int = 16, decimal_places: int = 2
) -> Decimal | None:
    if not raw:
        return None
    text = _number_text(raw)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or not re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        raise RowProblem(column, raw, "expected a non-negative number (like 1200000, 1,200,000 or 1200000.50)")
    value = value.quantize(Decimal(1).scaleb(-decimal_places))
    if value >= Decimal(10) ** (max_digits - decimal_places):
        raise RowProblem(column, raw, f"too large; expected at most {max_digits - decimal_places} digits before the decimal point")
    return value


def parse_date(column: str, raw: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise RowProblem(column, raw, "expected a date as YYYY-MM-DD (like 2026-01-15)")


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file's rows are checked: the checks build
    100,000s of small containers that live until the rows are staged, and each collection
    they set off walks all of them and the whole of Django besides (about a tenth of the
    checks' time, measured on 100,000 accounts). Reference counting still frees what is
    dropped; what cycles there are (a bad row's exception and its frame) wait until after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_length(column: str, raw: str, limit: int) -> str:
    if len(raw) > limit:
        raise RowProblem(column, raw[:60] + "…", f"too long; expected at most {limit} characters")
    return raw


def closest_names(name: str, candidates: dict[str, str], n: int = 3) -> list[str]:
    """Display names of the `n` candidates closest to `name` (keys are lower-cased names)."""
    keys = difflib.get_close_matches(name.lower(), list(candidates), n=n, cutoff=0.0)
    return [candidates[key] for key in keys]


def copy_rows(cursor, table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def raw_cursor(django_cursor):
    """The psycopg cursor under Django's wrapper (COPY is not in the DB-API)."""
    return django_cursor.cursor


@dataclass
class Validated:
    """What a kind's validation pass produced, ready to stage."""

    rows: list[tuple] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0


def table_problems(table: CsvTable, *, required: list[list[str]], kind: str) -> list[str]:
    """File-level problems: required columns missing (each inner list: any one of them)."""
    problems = []
    for options in required:
        if not any(table.has(column) for column in options):
            wanted = " or ".join(f"“{column}”" for column in options)
            problems.append(f"The {kind} file needs a {wanted} column; its header has: {_header_summary(table.header)}.")
    return problems


HEADER_NAMES_SHOWN = 30


def _header_summary(header: list[str]) -> str:
    """The header as the user should read it back: a file with a million columns (or one
    long garbage line) must not turn into a 17 MB error message stored on the record."""
    names = [h.strip()[:60] for h in header[:HEADER_NAMES_SHOWN]]
    text = ", ".join(names) or "nothing"
    if len(header) > HEADER_NAMES_SHOWN:
        text += f", … ({len(header):,} columns in all)"
    return text
