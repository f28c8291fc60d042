"""CSV cells that are safe to open in a spreadsheet: the one neutraliser every export uses.

Spreadsheets (Excel, LibreOffice, Google Sheets) evaluate a cell that starts with `=`, `+`,
`-` or `@` as a formula, and some treat a leading tab or carriage return the same way, so a
company called ``=HYPERLINK("http://evil", "click")`` becomes a live link or worse ("CSV
injection"). django-import-export's own escaping only handles a leading `=`, so every CSV
the project writes — imports' rejects files, list exports, report exports — passes each
cell through `neutralise_cell` (or writes with `csv_writer`).

The neutralised form is the OWASP one: a leading apostrophe, which spreadsheets show as
plain text. `unneutralise_cell` undoes exactly that prefix (and nothing else), and the
importers apply it, so an export re-imported unchanged round-trips with no changes.
"""

from __future__ import annotations

import csv
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> str:
    """The cell as text, prefixed with an apostrophe when a spreadsheet would run it as a formula.

    None becomes an empty cell. Numbers are rendered with `str` and, being non-negative in
    every column we export, pass unchanged; a negative number would gain the apostrophe,
    which is the safe side.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def unneutralise_cell(text: str) -> str:
    """Undo `neutralise_cell`: drop an apostrophe that guards a formula character."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def neutralise_row(row) -> list[str]:
    return [neutralise_cell(value) for value in row]


def _line_breaks_quoted(cell: str) -> str:
    # csv.writer quotes a cell only for the characters of its own line terminator: with
    # "\n" a bare carriage return goes out unquoted, and spreadsheets start a new row there —
    # one whose first cell ("=1" after "\r") is a live formula again. As "\n" it is quoted.
    return cell.replace("\r\n", "\n").replace("\r", "\n") if "\r" in cell else cell


class _NeutralisingWriter:
    def __init__(self, writer):
        self._writer = writer
        self._fold_cr = "\r" not in writer.dialect.lineterminator

    def writerow(self, row):
        cells = neutralise_row(row)
        if self._fold_cr:
            cells = [_line_breaks_quoted(cell) for cell in cells]
        return self._writer.writerow(cells)

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> _NeutralisingWriter:
    """A `csv.writer` whose every cell goes through `neutralise_cell`."""
    return _NeutralisingWriter(csv.writer(stream, **kwargs))
