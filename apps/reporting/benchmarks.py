"""Report pages on the demo organisation at 200,000 accounts: the server time of each page
(the whole request through the admin, as ops, 90-day range) next to the time of its SQL alone
(the same statements, captured from the request and re-run on the same connection)."""

from __future__ import annotations

import re
import statistics
import time

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

ACCOUNTS = 200_000
DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR (?:WITH|WITHOUT) HOLD FOR ')
RUNS = 3


def _median_ms(fn) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report_pages(*, stdout, options):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Account, Activity
    from apps.people.models import LeadCycle
    from apps.reporting.reports import REPORTS

    started = time.perf_counter()
    # The demo is deterministic for its seed: a bench database that already holds this exact
    # organisation is reused, which keeps a re-run within the benchmark time budget.
    reused = (Account.objects.count() == ACCOUNTS and get_user_model().objects.filter(username="ops").exists()
              and LeadCycle.objects.exists())
    if not reused:
        call_command("seed_demo", accounts=ACCOUNTS, reset=True, stdout=stdout)
    seed_s = time.perf_counter() - started
    counts = {"accounts": Account.objects.count(), "activities": Activity.objects.count(),
              "lead cycles": LeadCycle.objects.count()}
    stdout.write(f"{'reused' if reused else 'seeded'} in {seed_s:.0f} s: {counts}")
    user = get_user_model().objects.get(username="ops")
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    params = {"date_from": (today - timezone.timedelta(days=89)).isoformat(), "date_to": today.isoformat()}
    lines = [
        "## Report pages (apps.reporting)",
        "",
        f"`seed_demo --accounts {ACCOUNTS}`: {counts['accounts']:,} accounts, {counts['activities']:,} activities, "
        f"{counts['lead cycles']:,} lead cycles. Each page requested as ops (everything in scope) for a 90-day range "
        f"through the admin with Django's test client; median of {RUNS} runs after one warm-up. "
        "“SQL alone” re-runs the statements the request executed, on the same connection.",
        "",
        "| page | queries | page (ms) | SQL alone (ms) | page ÷ SQL |",
        "|---|---|---|---|---|",
    ]
    for slug, report in REPORTS.items():
        url = reverse("admin:report", args=[slug])
        query = params if report.uses_dates else {}

        def request(url=url, query=query):
            response = client.get(url, query, HTTP_HOST="localhost")
            assert response.status_code == 200, (url, response.status_code)

        request()
        with CaptureQueriesContext(connection) as captured:
            request()
        # Choice fields iterate their querysets through server-side cursors: run the SELECT itself.
        statements = [DECLARE.sub("", q["sql"]) for q in captured.captured_queries]

        def sql_alone(statements=statements):
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()

        page_ms = _median_ms(request)
        sql_ms = _median_ms(sql_alone)
        lines.append(f"| {report.title} | {len(statements)} | {page_ms:.0f} | {sql_ms:.0f} | {page_ms / sql_ms:.2f} |")
        stdout.write(lines[-1])
    return "\n".join(lines)


BENCHMARKS = [report_pages]
