"""`make bench BENCH_ARGS="--only accounts"`: import_accounts against a raw psycopg COPY.

100,000 accounts with owners (50 reps) and 10% of them with domain aliases. Side by side
in one run: a raw COPY of the same rows (already normalized, owners resolved) into
accounts_account, the `import_accounts` command on the CSV file (a subprocess, so its
start-up and its peak memory are measured as a user would see them), and a re-import of
the unchanged file.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.domains import matching_key
from apps.accounts.models import Account, DomainAlias, OwnershipEvent
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory

ROWS = 100_000
REPS = 50
SEGMENTS = ["SMB", "Mid-Market", "Enterprise", "PubSec"]
STATUSES = ["prospect", "active", "customer"]


def _reps() -> list[tuple[int, str]]:

    names = [f"Bench Seller {n:02d}" for n in range(REPS)]
    existing = dict(Rep.objects.filter(owner_name__in=names).values_list("owner_name", "pk"))
    for name in names:
        if name not in existing:
            rep = RepFactory(owner_name=name, user__username=f"bench-{name.split()[-1]}")
            existing[name] = rep.pk
    return [(existing[name], name) for name in names]


def _write_file(path: Path, reps: list[tuple[int, str]]) -> list[tuple]:
    """The CSV file, and the same rows as they land in the table (for the raw COPY)."""

    rows = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "website", "industry", "employees", "annual_revenue", "country", "segment",
                         "status", "company_owner", "domain_aliases"])
        for i in range(ROWS):
            rep_id, rep_name = reps[i % REPS]
            domain = f"company{i}.com"
            aliases = f"company{i}.co.uk;company{i}.de" if i % 10 == 0 else ""
            employees, revenue = 10 + i % 5000, f"{(i % 900 + 1) * 1000}.00"
            segment, status = SEGMENTS[i % 4], STATUSES[i % 3]
            # Owner names as CRMs export them: odd case and spacing now and then.
            owner = rep_name.upper() if i % 7 == 0 else rep_name.replace(" ", "  ") if i % 11 == 0 else rep_name
            writer.writerow([f"Company {i} Ltd", f"https://www.{domain}/", "Software", f"{employees:,}", revenue,
                             "United States", segment, status, owner, aliases])
            rows.append((f"Company {i} Ltd", f"https://www.{domain}/", domain, matching_key(domain), "Software",
                         employees, revenue, "United States", segment.lower().replace("-", "_"), status, rep_id))
    return rows


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_account, accounts_domainalias, accounts_domain_registry, accounts_ownershipevent CASCADE"
        )


def _raw_copy(rows: list[tuple]) -> float:
    now = timezone.now()
    started = time.perf_counter()
    sql = (
        "COPY accounts_account (name, website, domain, matching_key, industry, employees, annual_revenue, country,"
        " segment, status, owner_id, keep_subdomain, region, technologies, fit_score, opportunity_score,"
        " readiness_score, total_score, tier, quadrant, created_at, updated_at) FROM STDIN"
    )
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row((*row, False, "", "{}", 0, 0, 0, 0, "", "", now, now))
    return time.perf_counter() - started


def _phases(output: str) -> list[tuple[str, float]]:
    """(phase, seconds) from the command's `-v 2` timing lines ("  3.70s Staging rows")."""
    marks = [(0.0, "Start-up, reading and checking rows")]
    for line in output.splitlines():
        match = re.match(r"\s*(\d+\.\d+)s (.+)$", line)
        if match and not match.group(2).startswith("Checking rows"):
            marks.append((float(match.group(1)), match.group(2).split(":")[0]))
    return [(name, end - start) for (start, name), (end, _next) in zip(marks, marks[1:], strict=False)]


def _run_command(path: Path) -> tuple[float, float, str, str]:
    """Wall time (s), peak RSS (MiB), counts and output of `manage.py import_accounts` in a subprocess."""
    env = {**os.environ, "SDROPS_DATABASE_NAME": connection.settings_dict["NAME"]}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "import_accounts", str(path), "--user", "bench-00", "-v", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"import_accounts failed ({process.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output.strip().splitlines()[-2], output


def bench_import_accounts(*, stdout, options) -> str:

    reps = _reps()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accounts.csv"
        rows = _write_file(path, reps)
        size_mb = path.stat().st_size / 2**20
        _truncate()
        copy_seconds = _raw_copy(rows)
        stdout.write(f"raw COPY: {copy_seconds:.2f} s")
        _truncate()
        first_seconds, first_rss, first_counts, first_output = _run_command(path)
        stdout.write(f"import: {first_seconds:.2f} s, {first_rss:.0f} MiB, {first_counts}")
        accounts, aliases, events = Account.objects.count(), DomainAlias.objects.count(), OwnershipEvent.objects.count()
        again_seconds, again_rss, again_counts, _output = _run_command(path)
        stdout.write(f"re-import: {again_seconds:.2f} s, {again_rss:.0f} MiB, {again_counts}")
        events_after = OwnershipEvent.objects.count()
    _truncate()
    ratio = first_seconds / copy_seconds
    return "\n".join([
        "## CSV import of accounts (`import_accounts`)",
        "",
        f"{ROWS:,} accounts ({size_mb:.1f} MB CSV) owned by {REPS} reps (owner names in mixed case and spacing), "
        f"10% with two domain aliases. The command runs as a subprocess (Django start-up included); the raw COPY "
        "writes the same rows, already normalized and with owner ids, into `accounts_account` (same table, same "
        "indexes and domain triggers) and is the yardstick.",
        "",
        "| run | time (s) | × raw COPY | peak memory (MiB) | result |",
        "|---|---|---|---|---|",
        f"| raw psycopg COPY into accounts_account | {copy_seconds:.2f} | 1.0 | – | {ROWS:,} rows |",
        f"| `import_accounts` (first import) | {first_seconds:.2f} | {ratio:.2f} | {first_rss:.0f} | {first_counts} |",
        f"| `import_accounts` (same file again) | {again_seconds:.2f} | {again_seconds / copy_seconds:.2f} | {again_rss:.0f} | {again_counts} |",
        "",
        f"After the first import: {accounts:,} accounts, {aliases:,} aliases, {events:,} ownership events "
        f"(one per owned account, reason import); after the re-import still {events_after:,} events.",
        "",
        "Where the first import's time goes (from `import_accounts -v 2`; \"done\" includes the commit):",
        "",
        "| phase | s |",
        "|---|---|",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in _phases(first_output)],
        "",
        f"Targets: import ≤ 4× COPY (**{ratio:.2f}×**), re-import ≤ first import "
        f"(**{again_seconds:.2f} s vs {first_seconds:.2f} s**), peak memory < 400 MB (**{max(first_rss, again_rss):.0f} MiB**).",
    ])


BENCHMARKS = [bench_import_accounts]
