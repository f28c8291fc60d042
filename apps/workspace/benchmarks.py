"""`make bench`: each role's daily pages on the demo organisation, total time against the SQL
time measured inside the same requests (the yardstick: issue 17 item 6 asks for at most 3×).

Loads the demo (seed_demo, 2,000 accounts unless BENCH_PAGE_ACCOUNTS says otherwise) inside a
transaction that is rolled back, so the bench database keeps nothing."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from apps.accounts.models import Account
from apps.workspace.page_speed import CHANGELISTS, REPORTS, WORKSPACE_PAGES, page_walk

TARGET = 3.0


class _Rollback(Exception):
    pass


def bench_page_speed(*, stdout, options) -> str:
    accounts = int(os.environ.get("BENCH_PAGE_ACCOUNTS", "2000"))
    rows = []
    try:
        with transaction.atomic(), override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver", "localhost"]):
            call_command("seed_demo", "--accounts", str(accounts), "--seed", "11", stdout=open(os.devnull, "w"))  # noqa: SIM115
            account = Account.objects.filter(owner__user__username="sdr1").order_by("pk").first()
            client = Client()
            for group, pages in (("daily page", WORKSPACE_PAGES), ("list / search", CHANGELISTS),
                                 ("report", REPORTS)):
                for timing in page_walk(client, pages, account, samples=5):
                    stdout.write(timing.line())
                    rows.append((group, timing))
            raise _Rollback
    except _Rollback:
        pass
    lines = [
        "## Page speed: each role's daily pages against their own SQL",
        "",
        f"Demo organisation ({accounts:,} accounts, seed 11). Each page: best of 5 warm requests through",
        "Django's test client (no network); SQL time measured around every statement of the same",
        f"request. Target (issue 17 item 6): total at most **{TARGET:.0f}×** the page's SQL time.",
        "",
        "| page | role | total (ms) | SQL (ms) | queries | × SQL | within 3× |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for group, t in rows:
        lines.append(f"| {group}: `{t.url}` | {t.username} | {t.seconds * 1000:.1f} | {t.sql_seconds * 1000:.1f} | "
                     f"{t.queries} | {t.ratio:.1f} | {'yes' if t.ratio <= TARGET else '**no**'} |")
    within = sum(1 for _, t in rows if t.ratio <= TARGET)
    lines += ["", f"{within} of {len(rows)} pages within {TARGET:.0f}× their SQL."]
    return "\n".join(lines)


BENCHMARKS = [bench_page_speed]
