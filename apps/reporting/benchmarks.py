"""Report pages on the bench organisation (apps.reporting.bench_seed) at ~100,000 and ~1,000,000
activities (23,000 and 200,000 accounts): the server time of each page (the whole request through the admin, as ops
and as a manager, 90-day range) at both sizes, next to the time of its SQL alone (the same
statements, captured from the request and re-run on the same connection).

Each size is served by a process of its own (forked, one database each), and the parent asks
them in turn — 100k, 1M, 1M, 100k, … one request and one SQL-alone run at a time — so the
two sizes, and a page and its SQL, are measured side by side under the same load: on a shared
machine whose speed drifts over minutes, measuring one size after the other had put a drift
of ±50% into the growth ratio."""

from __future__ import annotations

import contextlib
import cProfile
import hashlib
import multiprocessing
import os
import pstats
import re
import statistics
import sys
import time
import traceback
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Account, Activity
from apps.leads.models import LeadCycle
from apps.people.models import Rep
from apps.reporting import bench_rows, bench_seed
from apps.reporting.bench_floors import FLOORS
from apps.reporting.bench_seed import bench_organisation_seed
from apps.reporting.reports import REPORTS
from apps.reporting.rollups import rollups_check, rollups_rebuild

ACCOUNTS = 200_000
DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR (?:WITH|WITHOUT) HOLD FOR ')
# Timed samples per page and size, taken in turns with the other size (see the module).
RUNS = 7
# While working on a few pages: SDROPS_REPORT_PAGES=icp-coverage,campaigns measures only those
# (the section written to docs/benchmarks.md then lists only them; write it from a full run).
ONLY = [slug for slug in os.environ.get("SDROPS_REPORT_PAGES", "").split(",") if slug]


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


# The two sizes of history the same pages are measured on, seeded the same way (apps.reporting.
# bench_seed, the demo's proportions): ~100,000 activities at 23,000 accounts and ~1,000,000 at
# 200,000, each in its own database, kept between runs.
SIZES = (("100k", 23_000, "sdrops_bench_reports_100k"), ("1M", ACCOUNTS, "sdrops_bench_reports_1m"))
SEED, DAYS = 42, 365
ROLES = (("ops", "ops"), ("manager", "manager.east"))
TARGET_GROWTH, TARGET_SQL = 1.5, 1.2


def _use_database(name: str) -> None:
    """Point the default connection at database `name` (created and migrated when missing)."""
    from sdrops.embedded_db import server

    connection.close()
    if "(1 row)" not in server().psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';"):
        server().psql(f"CREATE DATABASE {name};")
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)


def _signature(accounts: int) -> str:
    """What the database holds: the bench organisation of this size, seed and seeding code, made
    today (the seed is relative to its day, so a later day's windows would see older history)."""
    code = hashlib.sha256(Path(bench_seed.__file__).read_bytes() + Path(bench_rows.__file__).read_bytes()).hexdigest()
    return f"bench_seed accounts={accounts} seed={SEED} days={DAYS} code={code[:12]} on={timezone.localdate()}"


def _seeded(*, accounts: int, stdout) -> dict:
    name = connection.settings_dict["NAME"]
    signature = _signature(accounts)
    with connection.cursor() as cursor:
        cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
        reused = cursor.fetchone()[0] == signature and Account.objects.count() == accounts
    seeding = {}
    if not reused:
        seeding = bench_organisation_seed(accounts=accounts, seed=SEED, days=DAYS, stdout=stdout)
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON DATABASE {connection.ops.quote_name(name)} IS %s", [signature])
    started = time.perf_counter()
    differences = rollups_check()
    check_s = time.perf_counter() - started
    repaired = []
    if differences and reused:
        # A kept database that migrations since changed (a new rollup table starts empty): what
        # ops would do after such a deploy — rebuild — then check again. A fresh seed has no such excuse.
        repaired = [d.table for d in differences]
        rollups_rebuild()
        started = time.perf_counter()
        differences = rollups_check()
        check_s = time.perf_counter() - started
    # The hold: what the triggers keep equals a rebuild from history, on the measured data.
    assert not differences, f"report rollups differ from a rebuild: {differences}"
    # The check rebuilds every rollup in a transaction it rolls back, which leaves as many dead
    # rows as live ones in each table (index-only scans then visit the heap): a live server's
    # autovacuum clears them long before a manager opens a page, so measure after a VACUUM.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    counts = {"accounts": Account.objects.count(), "activities": Activity.objects.count(),
              "lead cycles": LeadCycle.objects.count(), **_table_counts()}
    stdout.write(f"{'reused' if reused else 'seeded'}: {counts}; rebuild_report_rollups --check clean in {check_s:.1f} s")
    return {"counts": counts, "check_s": check_s, "reused": reused, "seed_s": seeding.get("steps", {}).get("total"),
            "trigger_differences": seeding.get("trigger_differences", []), "repaired": repaired}


class _Pages:
    """The pages of one size, in the process serving that size: each (slug, role) is prepared
    once (warm-up, its statements captured, the slowest of them, a profile) and then timed on
    request, one page request and one SQL-alone run per call."""

    def __init__(self):
        today = timezone.localdate()
        self.params = {"date_from": (today - timezone.timedelta(days=89)).isoformat(), "date_to": today.isoformat()}
        self.sdr = (Rep.objects.filter(role=Rep.Role.SDR, active=True, team__name="East").order_by("pk")
                    .values_list("pk", flat=True)[0])
        self.clients = {}
        for role, username in ROLES:
            self.clients[role] = Client()
            self.clients[role].force_login(get_user_model().objects.get(username=username))
        self.prepared: dict = {}

    def prepare(self, slug: str, role: str) -> dict:
        report = REPORTS[slug]
        url = reverse("admin:report", args=[slug])
        query = dict(self.params) if report.uses_dates else {}
        if slug == "scorecard":
            query["rep"] = self.sdr
        client = self.clients[role]

        def request():
            response = client.get(url, query, HTTP_HOST="localhost")
            assert response.status_code == 200, (url, response.status_code)

        request()
        with CaptureQueriesContext(connection) as captured:
            request()
        # Choice fields iterate their querysets through server-side cursors: run the SELECT itself.
        statements = [DECLARE.sub("", q["sql"]) for q in captured.captured_queries]

        def sql_alone(timings=None):
            # In a transaction, as the page runs them (its SET LOCALs apply to it).
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in statements:
                    started = time.perf_counter()
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()
                    if timings is not None:
                        timings.append(((time.perf_counter() - started) * 1000, sql))

        timings: list = []
        sql_alone(timings=timings)
        self.prepared[(slug, role)] = (request, sql_alone)
        return {"queries": len(statements), "slowest": sorted(timings, key=lambda t: -t[0])[:2],
                "python": _python_profile(request)}

    def sample(self, slug: str, role: str) -> tuple[float, float]:
        request, sql_alone = self.prepared[(slug, role)]
        return _ms(request), _ms(sql_alone)


def _serve_size(pipe, database: str, accounts: int) -> None:
    """A child process: one size's database, seeded or reused, then pages on request."""
    try:
        _use_database(database)
        run = _seeded(accounts=accounts, stdout=OutputWrapper(sys.stdout))
        pages = _Pages()
        pipe.send(("ready", run))
        while (message := pipe.recv()) is not None:
            verb, slug, role = message
            pipe.send(("ok", pages.prepare(slug, role) if verb == "prepare" else pages.sample(slug, role)))
    except BaseException as error:  # noqa: BLE001 - said to the parent, which stops the run
        pipe.send(("error", f"{error!r}\n{traceback.format_exc()}"))
    finally:
        connection.close()


def _ask(pipe, *message):
    pipe.send(message)
    status, value = pipe.recv()
    if status == "error":
        raise RuntimeError(f"the {message[1:]} measurement failed in its size's process: {value}")
    return value


def _measure_sizes(*, stdout) -> dict:
    """label → the size's seeding figures and per (slug, role) the page's queries, page ms, SQL
    ms (medians of RUNS samples taken in turns with the other size), slowest statements and profile."""
    connection.close()  # the children open their own
    context = multiprocessing.get_context("fork")
    children = {}
    for label, accounts, database in SIZES:
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve_size, args=(theirs, database, accounts), daemon=True)
        process.start()
        children[label] = (process, ours)
    runs = {}
    try:
        for label, (_process, pipe) in children.items():
            status, value = pipe.recv()
            if status == "error":
                raise RuntimeError(f"the {label} size could not be prepared: {value}")
            runs[label] = {**value, "pages": {}}
            stdout.write(f"-- {label}: ready")
        labels = list(children)
        for slug in REPORTS:
            if ONLY and slug not in ONLY:
                continue
            for role, _ in ROLES:
                samples = {label: ([], []) for label in labels}
                for label in labels:
                    runs[label]["pages"][(slug, role)] = _ask(children[label][1], "prepare", slug, role)
                for index in range(RUNS):
                    for label in (labels if index % 2 == 0 else labels[::-1]):
                        page_ms, sql_ms = _ask(children[label][1], "sample", slug, role)
                        samples[label][0].append(page_ms)
                        samples[label][1].append(sql_ms)
                for label in labels:
                    page = runs[label]["pages"][(slug, role)]
                    page["page"], page["sql"] = statistics.median(samples[label][0]), statistics.median(samples[label][1])
                stdout.write(f"{slug} as {role}: " + "; ".join(
                    f"{label} page {runs[label]['pages'][(slug, role)]['page']:.0f} ms, "
                    f"SQL {runs[label]['pages'][(slug, role)]['sql']:.0f} ms" for label in labels))
    finally:
        for process, pipe in children.values():
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send(None)
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    return runs


def _python_profile(request) -> list[tuple[float, str]]:
    """Where one request's Python time goes: cProfile's own time summed per package (the
    database driver and C built-ins left out), the three largest. Profiling inflates it."""
    profiler = cProfile.Profile()
    profiler.enable()
    request()
    profiler.disable()
    per_package: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in pstats.Stats(profiler).stats.items():
        parts = Path(filename).parts
        if filename.startswith("~") or "psycopg" in parts:
            continue
        if "site-packages" in parts:
            parts = parts[parts.index("site-packages") + 1:]
        elif str(settings.BASE_DIR) in filename:
            parts = Path(filename).relative_to(settings.BASE_DIR).parts
        else:
            parts = ("python", parts[-1])
        key = "/".join(parts[:2]).removesuffix(".py")
        per_package[key] = per_package.get(key, 0) + own * 1000
    return sorted(((ms, key) for key, ms in per_package.items()), reverse=True)[:3]


def _statement(sql: str) -> str:
    text = " ".join(sql.split())
    return (text[:110] + "…") if len(text) > 110 else text


def report_pages(*, stdout, options):
    runs = _measure_sizes(stdout=stdout)
    small, big = runs["100k"], runs["1M"]

    def seeding(run) -> str:
        if run["reused"]:
            rebuilt = (f"; rollups rebuilt first, as after a deploy (migrations since the seed changed "
                       f"{', '.join(run['repaired'])})" if run["repaired"] else "")
            return f"reused from an earlier run today (same size, seed and seeding code){rebuilt}"
        kept = ("the triggers kept every rollup through the bulk statements" if not run["trigger_differences"]
                else f"rebuilt after the bulk statements (triggers differed on {', '.join(run['trigger_differences'])})")
        return f"seeded in {run['seed_s']:.0f} s; {kept}"

    lines = [
        "## Report pages (apps.reporting)",
        "",
        "Issue 16 target 1: at 1M activities every page answers in at most "
        f"{TARGET_GROWTH}× its time at 100k activities, for ops (everything in scope) and for a manager (one team), "
        f"and within {TARGET_SQL}× of its own SQL. The numbers come from rollups kept by database triggers "
        "(docs/reports.md, “Rollups”).",
        "",
        *[f"- **{label}**: `bench_organisation_seed(accounts={accounts})`: "
          + ", ".join(f"{n:,} {name}" for name, n in runs[label]["counts"].items())
          + f"; {seeding(runs[label])}; `rebuild_report_rollups --check` clean ({runs[label]['check_s']:.1f} s)."
          for label, accounts, _ in SIZES],
        "",
        "Both sizes are the same organisation shape (apps.reporting.bench_seed): `seed_demo` makes the people, "
        "roles, ICPs, cadences, campaigns, routing rules and 200 accounts through the real services; the rest is "
        f"added set-based in the demo's proportions over {DAYS} days (half the accounts owned, ~3 contacts each, "
        "inbound cycles with the demo's states and per-SDR qualify rates, 3–12 activities per owned account, a "
        "qualified meeting and opportunity per SQL, other meetings, SLA breaches, routing decisions, signals, "
        "cadence enrolments, returns), then scored and classified by the real services. "
        "Each page requested through the admin with Django's test client for a 90-day range (as ops: Europe/London; "
        f"as manager.east: America/New_York), median of {RUNS} runs after a warm-up. “SQL” re-runs the statements "
        "the request executed, on the same connection, in one transaction. Each size is served by its own process and "
        "the two are asked in turns (100k, 1M, 1M, 100k, …; a page request, then its SQL alone), so both sizes and "
        "both yardsticks see the same machine load.",
        "",
        f"| page | as | queries | 100k page (ms) | 1M page (ms) | 1M ÷ 100k (≤ {TARGET_GROWTH}) | 100k SQL (ms) "
        f"| 1M SQL (ms) | 1M page ÷ SQL (≤ {TARGET_SQL}) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    misses = []
    for slug, report in REPORTS.items():
        if ONLY and slug not in ONLY:
            continue
        for role, _ in ROLES:
            a, b = small["pages"][(slug, role)], big["pages"][(slug, role)]
            growth, ratio = b["page"] / a["page"], b["page"] / b["sql"]
            marks = ("" if growth <= TARGET_GROWTH else " ✗", "" if ratio <= TARGET_SQL else " ✗")
            lines.append(f"| {report.title} | {role} | {b['queries']} | {a['page']:.0f} | {b['page']:.0f} | "
                         f"{growth:.2f}{marks[0]} | {a['sql']:.0f} | {b['sql']:.0f} | {ratio:.2f}{marks[1]} |")
            if marks[0] or marks[1]:
                misses.append((slug, report.title, role, a, b, growth, ratio))
    lines += ["", "### Where a figure misses: the floor", ""]
    if not misses:
        lines.append("Every page holds both targets.")
    explained = set()
    for slug, title, role, a, b, growth, ratio in misses:
        what = []
        if growth > TARGET_GROWTH:
            what.append(f"grows {growth:.2f}× ({a['page']:.0f} → {b['page']:.0f} ms)")
        if ratio > TARGET_SQL:
            what.append(f"page {ratio:.2f}× its SQL: {b['page'] - b['sql']:.0f} ms outside the database at 1M "
                        f"({a['page'] - a['sql']:.0f} ms at 100k) — Python, by package (cProfile own time): "
                        + ", ".join(f"{key} {ms:.0f} ms" for ms, key in b["python"]))
        lines.append(f"- **{title}** as {role}: {'; '.join(what)}. Slowest statements at 1M: "
                     + "; ".join(f"{ms:.0f} ms `{_statement(sql)}`" for ms, sql in b["slowest"])
                     + f" (at 100k: {', '.join(f'{ms:.0f} ms' for ms, _ in a['slowest'])})")
        if slug in FLOORS and slug not in explained:
            explained.add(slug)
            lines.append(f"  - *The floor*: {FLOORS[slug]}")
    lines += ["", f"Load average at the end of the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(the machine is shared; figures vary by ±50% with the load)."]
    return "\n".join(lines)


def _table_counts() -> dict[str, int]:
    out = {}
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for name, table in (("cadence enrolments", "cadences_enrolment"), ("meetings", "meetings_meeting"),
                            ("opportunities", "meetings_opportunity"), ("returns", "routing_returnrequest")):
            if table in tables:
                cursor.execute(f"SELECT count(*) FROM {table}")
                out[name] = cursor.fetchone()[0]
    return out


BENCHMARKS = [report_pages]
