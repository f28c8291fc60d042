"""CSV import of signals, keyed by account domain: all-or-nothing, line-numbered errors.

Columns (header names matched case-insensitively after trimming; unknown ones are reported
and ignored): domain, type, occurred_at, value, date, source, note. `type` is a signal
type's key or name. `occurred_at` is ISO 8601 (a date alone means midnight, local time).
UTF-8 with or without BOM; comma, semicolon or tab separated (detected from the header);
read by the project's one CSV reader, apps/accounts/imports/reading.py.
Re-importing the same file adds nothing: a signal is identified by account, type,
occurred_at and source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.accounts.domains import normalize_domain
from apps.accounts.imports.reading import FileRefused, read_table
from apps.accounts.models import Account, DomainAlias
from apps.icps.models import Signal, SignalType
from apps.icps.services import signals_bulk_record
from apps.people.actors import actor_user

COLUMNS = ["domain", "type", "occurred_at", "value", "date", "source", "note"]
REQUIRED = ["domain", "type", "occurred_at"]


@dataclass
class SignalImportResult:
    rows: int = 0
    created: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class SignalImportError(Exception):
    def __init__(self, result: SignalImportResult):
        self.result = result
        super().__init__("\n".join(result.errors))


def _occurred_at(value: str) -> dt.datetime | None:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            return None
        parsed = dt.datetime.combine(day, dt.time.min)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def signals_import(*, data: bytes, actor=None, dry_run: bool = False) -> SignalImportResult:
    """Validate every row; write all of them (and rescore their accounts) or none.
    Raises SignalImportError carrying every row error."""
    result = SignalImportResult()
    try:
        table = read_table(data, known=COLUMNS)
    except FileRefused as refusal:
        if refusal.messages[0].startswith("The file is empty"):
            result.errors.append("Line 1: the file is empty; expected a header row with " + ", ".join(REQUIRED) + ".")
            raise SignalImportError(result)
        raise ValidationError(" ".join(refusal.messages))
    index = table.columns
    if table.unknown_columns:
        result.warnings.append(f"Unknown columns ignored: {', '.join(table.unknown_columns)} (known: {', '.join(COLUMNS)}).")
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        result.errors.append(f"Line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
        raise SignalImportError(result)

    types: dict[str, SignalType] = {}
    for signal_type in SignalType.objects.all():
        types[signal_type.key.lower()] = signal_type
        types[signal_type.name.lower()] = signal_type

    parsed: list[tuple[int, str, dict]] = []
    try:
        rows = list(table.rows())
    except FileRefused as refusal:
        raise ValidationError(" ".join(refusal.messages))
    for line, _cells, values in rows:
        result.rows += 1

        def cell(name: str, values=values) -> str:
            return values.get(name, "")

        def error(column: str, value: str, expected: str, line=line):
            result.errors.append(f"Line {line}, column {column}: “{value}” — {expected}")

        fields: dict = {"source": cell("source")[:100], "note": cell("note")[:255]}
        try:
            domain = normalize_domain(cell("domain"))
        except ValidationError as e:
            error("domain", cell("domain"), e.messages[0])
            domain = None
        signal_type = types.get(cell("type").lower())
        if signal_type is None:
            error("type", cell("type"), "expected a signal type: " + ", ".join(sorted(t.key for t in set(types.values()))) + ".")
        occurred_at = _occurred_at(cell("occurred_at"))
        if occurred_at is None:
            error("occurred_at", cell("occurred_at"), "expected a date and time like 2026-03-01T09:30 or a date like 2026-03-01.")
        fields["occurred_at"] = occurred_at
        raw_value = cell("value")
        fields["value"] = None
        if raw_value:
            try:
                fields["value"] = Decimal(raw_value.replace(",", "").replace(" ", ""))
            except InvalidOperation:
                error("value", raw_value, "expected a number.")
        raw_date = cell("date")
        fields["date"] = None
        if raw_date:
            fields["date"] = parse_date(raw_date) if len(raw_date) == 10 else None
            if fields["date"] is None:
                error("date", raw_date, "expected a date like 2026-06-30.")
        if signal_type is not None:
            if signal_type.kind == SignalType.Kind.DATED and not raw_date:
                error("date", raw_date, f"a {signal_type.name} signal needs a date.")
            if signal_type.kind == SignalType.Kind.NUMERIC and not raw_value:
                error("value", raw_value, f"a {signal_type.name} signal needs a value.")
        fields["type"] = signal_type
        parsed.append((line, domain, fields))

    domains = {d for _line, d, _f in parsed if d}
    accounts = dict(Account.objects.filter(domain__in=domains).values_list("domain", "pk"))
    accounts.update(DomainAlias.objects.filter(domain__in=domains - set(accounts)).values_list("domain", "account_id"))
    signals = []
    for line, domain, fields in parsed:
        if domain and domain not in accounts:
            result.errors.append(f"Line {line}, column domain: “{domain}” — no account has this domain or alias.")
            continue
        if domain and fields["type"] is not None and fields["occurred_at"] is not None:
            signals.append(Signal(account_id=accounts[domain], created_by=actor_user(actor), **fields))
    if result.errors:
        result.errors.sort(key=lambda message: int(message.split(",")[0].split()[1].rstrip(":")))
        raise SignalImportError(result)
    if not dry_run:
        result.created = signals_bulk_record(signals=signals)
    return result
