"""Reading the CSV files people bring: encoding, delimiter, header and line numbers.

The one CSV reader of the project: the account, contact and rep imports, the signals import
and `route_leads` all read through `read_table`. Everything here is about the *file*; what a
row means is up to each caller. The whole file is decoded once (a 100,000-row accounts file
is ~10 MB of text); rows are then streamed through `csv.reader`, so only the callers decide
what to keep.

A file that cannot be read raises FileRefused with messages naming the line (and column),
also while its rows are being read: callers that iterate `rows()` catch it too.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from apps.accounts.csv_safety import csv_writer, unneutralise_cell

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# Offered in the admin next to UTF-8; any codec Python knows works from the command line.
ENCODING_CHOICES = [
    ("utf-8", "UTF-8 (with or without BOM)"),
    ("cp1252", "Windows-1252 (Excel on Windows, Western Europe)"),
    ("latin-1", "ISO-8859-1 (Latin-1)"),
    ("utf-16", "UTF-16 (Excel “Unicode text”)"),
    ("mac-roman", "Mac Roman"),
]

# The csv module's own cell limit is process-wide and its error ("field larger than field
# limit") names neither line nor column, so it is lifted and each cell is measured here
# instead: an oversized cell is refused with where it is. The text is in memory already,
# so a long cell costs no more than the file itself.
MAX_CELL_CHARS = 1 << 20
csv.field_size_limit(2**31 - 1)


class FileRefused(Exception):
    """The file as a whole cannot be read; `messages` say why and what to do."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", column {self.column}"
            where += f" (“{self.value}”)" if self.value else " (empty)"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "value": self.value, "message": self.message}


def _refuse_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL: without this check the write fails deep in the
    # import (a 500 on the admin screen) instead of naming the line.
    position = text.find("\x00")
    if position >= 0:
        line = text.count("\n", 0, position) + 1
        raise FileRefused(
            f"Line {line} contains a NUL character (byte 0x00); a CSV text file has none.",
            "Is this a spreadsheet or archive rather than CSV? Save it as “CSV UTF-8” and upload that.",
        )
    return text


def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text. UTF-8 (a BOM is dropped) unless the user named another encoding."""
    return _refuse_nul(_decode(data, encoding))


def _decode(data: bytes, encoding: str | None = None) -> str:
    name = (encoding or "utf-8").strip().lower()
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise FileRefused(f"Unknown encoding “{encoding}”; expected one like utf-8, cp1252 or latin-1.")
    if codec.name == "utf-8":
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            byte = data[error.start]
            raise FileRefused(
                f"The file is not valid UTF-8: line {line} has the byte 0x{byte:02x}, which UTF-8 cannot read.",
                "Save the file as “CSV UTF-8”, or pick the encoding it was saved in (for example Windows-1252).",
            )
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileRefused(f"The file cannot be read as {codec.name}: line {line} has a byte that encoding cannot read.")
    return text.lstrip("\ufeff")


def detect_delimiter(header_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line uses most (outside quotes)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_key(name: str) -> str:
    """How a header cell is matched: trimmed, case-insensitive, inner spaces as underscores."""
    return re.sub(r"\s+", "_", name.replace("\ufeff", "").strip().lower())


@dataclass
class CsvTable:
    """A decoded CSV file with its header mapped onto the columns a kind knows."""

    text: str
    delimiter: str
    header: list[str]
    columns: dict[str, int]
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def approximate_rows(self) -> int:
        return max(self.text.count("\n") - 1, 0) + (0 if self.text.endswith("\n") else 1)

    def has(self, column: str) -> bool:
        return column in self.columns

    def _reader(self) -> Iterator[tuple[int, list[str]]]:
        records = csv_records(self.text, self.delimiter, header=self.header)
        next(records, None)
        yield from records

    def rows(self, *, after_line: int = 0, through_line: int | None = None) -> Iterator[tuple[int, list[str], dict[str, str]]]:
        """(file line where the record starts, raw cells, {known column: cleaned value}),
        of the records starting after `after_line` and up to `through_line`.

        Blank lines are skipped; cells are trimmed and a spreadsheet-safety apostrophe
        added by our exports is removed, so an export re-imports unchanged.
        """
        items = list(self.columns.items())
        names, indexes = [name for name, _index in items], [index for _name, index in items]
        width = len(self.header)
        # The usual row in as few Python steps as it takes (an import reads 100,000s): the
        # known cells picked and trimmed by C loops, and the guard undone only in a file that
        # has an apostrophe somewhere (only a cell starting with one can carry the guard).
        pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda cells: tuple(cells[i] for i in indexes))
        strip = str.strip
        guarded = "'" in self.text
        for line, cells in self._reader():
            if line <= after_line:
                continue
            if through_line is not None and line > through_line:
                return
            if len(cells) == width:
                stripped = list(map(strip, pick(cells)))
                if guarded:
                    stripped = [unneutralise_cell(v) if v[:1] == "'" else v for v in stripped]
                values = dict(zip(names, stripped, strict=True))
                if any(stripped) or any(map(strip, cells)):
                    yield line, cells, values
                continue
            if not any(cell.strip() for cell in cells):
                continue
            count = len(cells)
            values = {name: unneutralise_cell(cells[index].strip()) if index < count else "" for name, index in items}
            if count > width and any(cell.strip() for cell in cells[width:]):
                values["__too_many_cells__"] = str(count)
            if not any(values.values()) and not any(cell.strip() for cell in cells):
                continue
            yield line, cells, values

    def raw_rows(self, lines: Iterable[int]) -> dict[int, list[str]]:
        wanted = set(lines)
        found: dict[int, list[str]] = {}
        if not wanted:
            return found
        for line, cells in self._reader():
            if line in wanted:
                found[line] = cells
                if len(found) == len(wanted):
                    break
        return found


def _column_name(index: int, header: list[str] | None) -> str:
    name = header[index].strip() if header is not None and index < len(header) else ""
    return f"column {index + 1}" + (f" ({name[:40]})" if name and len(name) <= MAX_CELL_CHARS else "")


def csv_records(text: str, delimiter: str, *, header: list[str] | None = None) -> Iterator[tuple[int, list[str]]]:
    """(file line where the record starts, cells) for every record, the header included.
    Raises FileRefused for a cell over MAX_CELL_CHARS or anything the csv module refuses."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    # No cell of a file this size can be over the limit: no need to measure each.
    measure = len(text) > MAX_CELL_CHARS
    try:
        for cells in reader:
            line = previous + 1
            previous = reader.line_num
            if measure and cells and max(map(len, cells)) > MAX_CELL_CHARS:
                _refuse_long_cell(line, cells, header)
            yield line, cells
    except csv.Error as error:
        raise FileRefused(f"Line {previous + 1}: the file cannot be read as CSV ({error}).")


def _refuse_long_cell(line: int, cells: list[str], header: list[str] | None) -> None:
    index, cell = next((i, c) for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS)
    raise FileRefused(
        f"Line {line}, {_column_name(index, header)}: the cell is {len(cell):,} characters long; "
        f"at most {MAX_CELL_CHARS:,} are read.",
        "A quote that is opened and never closed makes the rest of the file one cell: check the quotes "
        "on that line.",
    )


def read_table(data: bytes, *, known: Iterable[str], encoding: str | None = None) -> CsvTable:
    text = decode(data, encoding)
    if not text.strip():
        raise FileRefused("The file is empty; expected a header line and at least one row.")
    first_line = text.split("\n", 1)[0]
    delimiter = detect_delimiter(first_line)
    header = next(csv_records(text, delimiter))[1]
    known = list(known)
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, name in enumerate(header):
        key = header_key(name)
        if not key:
            continue
        if key in known:
            if key in columns:
                raise FileRefused(f"The column “{key}” appears twice in the header (columns {columns[key] + 1} and {index + 1}).")
            columns[key] = index
        else:
            unknown.append(name.strip())
    return CsvTable(text=text, delimiter=delimiter, header=header, columns=columns, unknown_columns=unknown)


def rejects_csv(table: CsvTable, errors: list[RowError]) -> str:
    """The bad rows as they were, plus an `error` column, ready to fix and re-import."""

    by_line: dict[int, list[RowError]] = {}
    for error in errors:
        by_line.setdefault(error.line, []).append(error)
    raw = table.raw_rows(by_line)
    out = io.StringIO()
    writer = csv_writer(out, delimiter=table.delimiter, lineterminator="\n")
    writer.writerow([*table.header, "error"])
    width = len(table.header)
    for line in sorted(by_line):
        cells = raw.get(line, [])
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        messages = "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in by_line[line])
        writer.writerow([*cells, messages])
    return out.getvalue()
