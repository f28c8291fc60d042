"""What a report page shows: tables of numbers (each exportable as CSV), a chart, definitions.

A table's cells are formatted once, here; the HTML table and its CSV export both read the
same formatted strings, so the export is exactly the table on the screen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from apps.accounts.csv_safety import neutralise_cell
from apps.people.timezones import when
from apps.workspace.money import money

NO_DATA = "no data"
EMPTY_RATE = "—"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # int | pct | num | hours | money | text | date | datetime
    definition: str = ""
    digits: int = 1


def format_value(value: Any, column: Column) -> str:
    if value is None:
        return EMPTY_RATE if column.kind in {"pct", "num", "hours", "money"} else ""
    kind = column.kind
    if kind == "int":
        return str(int(value))
    if kind == "pct":
        return f"{float(value) * 100:.{column.digits}f}%"
    if kind in {"num", "hours"}:
        return f"{float(value):.{column.digits}f}"
    if kind == "money":
        # Page and CSV alike read "$360,000" (the CSV is the page's table, for people).
        return money(Decimal(value))
    if kind == "datetime" and isinstance(value, dt.datetime):
        return when(value)
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def rate(numerator, denominator):
    """numerator ÷ denominator, or None when the denominator is zero (shown as "—")."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    # (row index or "total", column key) → "good" | "warn" | "bad": colours against targets.
    statuses: dict[tuple[Any, str], str] = field(default_factory=dict)
    note: str = ""
    # A page of more rows than the table lists (an admin changelist, filtered): linked after the note.
    more_url: str = ""
    more_label: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    def formatted_rows(self) -> list[list[str]]:
        return [[format_value(row.get(c.key), c) for c in self.columns] for row in self.rows]

    def formatted_total(self) -> list[str] | None:
        if self.total is None:
            return None
        return [format_value(self.total.get(c.key), c) for c in self.columns]

    def _css(self, index, column: Column) -> str:
        classes = [f"kind-{column.kind}"]
        status = self.statuses.get((index, column.key))
        if status:
            classes.append(f"status-{status}")
        return " ".join(classes)

    def html_rows(self) -> list[list[tuple[str, str]]]:
        """Rows as (text, CSS classes) pairs for the template: the column's kind and the colour."""
        out = []
        for index, row in enumerate(self.formatted_rows()):
            out.append([(text, self._css(index, c)) for text, c in zip(row, self.columns, strict=True)])
        return out

    def html_total(self) -> list[tuple[str, str]] | None:
        total = self.formatted_total()
        if total is None:
            return None
        return [(text, self._css("total", c)) for text, c in zip(total, self.columns, strict=True)]

    def html(self) -> SafeString:
        """The table's markup. Built here, not by nested template loops: on a report of a few hundred
        cells the template engine's work per cell (variable lookup, escaping, localisation) was most
        of the page's time outside the database (issue 16: page within 1.2x its SQL)."""
        esc = conditional_escape
        head = "".join(f'<th scope="col" class="kind-{esc(c.kind)}" title="{esc(c.definition)}">{esc(c.label)}</th>'
                       for c in self.columns)

        def cells(pairs) -> str:
            return "".join(f'<td class="{esc(css)}">{esc(text)}</td>' for text, css in pairs)

        rows = self.html_rows()
        body = ("".join(f"<tr>{cells(row)}</tr>\n" for row in rows) if rows else
                f'<tr class="no-data"><td colspan="{len(self.columns)}">{NO_DATA}</td></tr>\n')
        total = self.html_total()
        foot = f'<tfoot><tr class="total">{cells(total)}</tr></tfoot>' if total else ""
        return mark_safe(f'<table class="report-table" id="table-{esc(self.key)}">\n<thead><tr>{head}</tr></thead>\n'  # noqa: S308 - every part escaped above
                         f"<tbody>\n{body}</tbody>\n{foot}\n</table>")

    def csv_rows(self) -> list[list[str]]:
        rows = [self.header(), *self.formatted_rows()]
        total = self.formatted_total()
        if total is not None:
            rows.append(total)
        return [[neutralise_cell(cell) for cell in row] for row in rows]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(self.csv_rows())
        return buffer.getvalue()


@dataclass
class Result:
    tables: list[Table]
    chart: dict | None = None
    # Lines shown above the tables (e.g. the capacity formula's results, diagnoses).
    summary: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    @property
    def definitions(self) -> list[tuple[str, str]]:
        seen, out = set(), []
        for table in self.tables:
            for column in table.columns:
                if column.definition and column.label not in seen:
                    seen.add(column.label)
                    out.append((column.label, column.definition))
        return out


def bar_chart(*, labels, datasets, stacked=False, percent=False, horizontal=False, kind="bar") -> dict:
    """A Chart.js description the page's script turns into a chart (see static/reporting/charts.js)."""
    return {
        "type": kind,
        "labels": [str(label) for label in labels],
        "datasets": [{"label": label, "data": [None if v is None else float(v) for v in data]} for label, data in datasets],
        "stacked": stacked,
        "percent": percent,
        "horizontal": horizontal,
    }
