"""What the field-history trigger on accounts costs the account import (issue 19 item 5).

Run in a database of its own (it truncates the accounts):

    SDROPS_DATABASE_NAME=sdrops_fieldhist .venv/bin/python manage.py migrate
    SDROPS_DATABASE_NAME=sdrops_fieldhist .venv/bin/python manage.py shell -c \
        "from apps.campaigns.field_history_bench import main; main()"

100,000 accounts imported with `import_accounts` (a subprocess, as a user runs it), then
re-imported with the trigger enabled and disabled, alternating so load on the shared machine
weighs on both sides: (1) the unchanged file — the upsert updates no row; (2) a file with every
row's industry changed — 100,000 rows updated, the trigger's WHEN is false on each; (3) a file
with every row renamed — the worst case, 100,000 history rows. Reported: the command's wall
time and its "Writing accounts" phase (the set-based UPDATE the trigger sits on).
"""

from __future__ import annotations

import csv
import io
import statistics
import tempfile
from pathlib import Path

from django.db import connection

from apps.accounts.benchmarks import ROWS, _phases, _reps, _run_command, _truncate, _write_file
from apps.campaigns.models import AccountNameChange


def _trigger(enabled: bool) -> None:
    with connection.cursor() as cursor:
        # pgtrigger suffixes the name with a hash of the definition.
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'pgtrigger_account_name_history_%%'")
        [(name,)] = cursor.fetchall()
        cursor.execute(f"ALTER TABLE accounts_account {'ENABLE' if enabled else 'DISABLE'} TRIGGER {name}")


def _variant(source: Path, target: Path, *, column: int, value) -> None:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    out = io.StringIO()
    writer = csv.writer(out)
    for n, row in enumerate(csv.reader(io.StringIO("".join(lines)))):
        if n:
            row[column] = value(row[column])
        writer.writerow(row)
    target.write_text(out.getvalue(), encoding="utf-8")


def _write_phase(output: str) -> float:
    return sum(seconds for name, seconds in _phases(output) if name.startswith("Writing accounts"))


def main(rounds: int = 2) -> None:
    reps = _reps()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "accounts.csv"
        _write_file(base, reps)
        industry = Path(tmp) / "industry.csv"
        _variant(base, industry, column=2, value=lambda v: "Retail")
        renamed = Path(tmp) / "renamed.csv"
        _variant(base, renamed, column=0, value=lambda v: v.replace(" Ltd", " Limited"))
        _truncate()
        _trigger(True)
        seconds, _rss, counts, _out = _run_command(base)
        print(f"first import: {seconds:.2f} s {counts}")
        results: dict[tuple[str, bool], list[tuple[float, float]]] = {}
        for _round in range(rounds):
            for enabled in (True, False):
                _trigger(enabled)
                for label, path, back in (("unchanged", base, None), ("industry changed", industry, base),
                                          ("renamed", renamed, base)):
                    seconds, _rss, counts, output = _run_command(path)
                    results.setdefault((label, enabled), []).append((seconds, _write_phase(output)))
                    print(f"{label:17} trigger={'on ' if enabled else 'off'} {seconds:6.2f} s, writing "
                          f"{_write_phase(output):5.2f} s  {counts}")
                    if back is not None:
                        _run_command(back)  # back to the base file for the next variant
        _trigger(True)
    print(f"history rows written: {AccountNameChange.objects.count():,} (renamed runs with the trigger on × {ROWS:,} × 2 "
          "— the rename and the rename back)")
    print("| re-import of 100,000 rows | trigger on: command / writing (s) | off: command / writing (s) |")
    print("|---|---|---|")
    for label in ("unchanged", "industry changed", "renamed"):
        on, off = results[(label, True)], results[(label, False)]
        print(f"| {label} | {statistics.mean(r[0] for r in on):.2f} / {statistics.mean(r[1] for r in on):.2f} | "
              f"{statistics.mean(r[0] for r in off):.2f} / {statistics.mean(r[1] for r in off):.2f} |")
    AccountNameChange.objects.all().delete()
    _truncate()
