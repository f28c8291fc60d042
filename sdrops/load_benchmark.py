"""Load benchmark: 50 SDRs and 5 managers against gunicorn on 127.0.0.1 for 2 minutes.

Run by `make bench` (registered in apps/integrations/benchmarks.py). It builds its own
people, books, queue and tokens in the bench database (rows prefixed `load-`, removed
before each run), starts gunicorn as a separate process, drives it with a thread pool and
then checks the data.

Why a thread pool with `requests` rather than locust: every request's answer is recorded
with the key it wrote (an activity subject, a domain, a queue claim), so the data checks
can prove "every accepted request is in the database exactly once"; locust adds gevent
monkeypatching and a web stack for figures we compute in twenty lines. The client runs in
this process on the same 2 cores as the server, so the figures are a floor.

What each simulated person does, with a think time of 0.3–0.9 s between actions:
- SDR (50, each with an API token and an admin session): 70 % log an activity on an
  account of their own book (POST /api/activities/), 20 % claim the next lead from the
  first-come queue (POST admin claim-next), 10 % file a return of an account of their book
  (POST the admin return form).
- Manager (5, admin session): open the team dashboard report (last 30 days, their teams).
- Inbound: one client posts a new inbound lead (POST /api/leads/, routed at once) every 0.2 s.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count

from apps.accounts.models import Account, Activity, OwnershipEvent, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.integrations.models import Integration, Scope
from apps.leads.models import LeadCycle
from apps.people.models import Contact, Rep, Team
from apps.people.roles import ROLE_GROUP, sync_role_groups
from apps.routing import selectors
from apps.routing.models import (
    QueueItem,
    ReturnRequest,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    Strategy,
)

PREFIX = "load-"
DURATION = float(os.environ.get("LOAD_SECONDS", "120"))
SDRS, MANAGERS = 50, 5
BOOK, CAPACITY, QUEUED = 20, 40, 1500
INBOUND_EVERY = 0.2
PASSWORD = "load-bench-password-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _delete(queryset) -> None:
    """Delete, first removing whatever PROTECTs the rows (returns, routing decisions, lead
    cycles a run left pointing at its reps)."""
    from django.db.models import ProtectedError

    for _ in range(10):
        try:
            queryset.delete()
            return
        except ProtectedError as error:
            by_model = defaultdict(list)
            for obj in error.protected_objects:
                by_model[type(obj)].append(obj.pk)
            for model, pks in by_model.items():
                _delete(model._default_manager.filter(pk__in=pks))
    queryset.delete()


def _cleanup():
    from django.contrib.auth import get_user_model


    QueueItem.objects.filter(rule__name__startswith=PREFIX).delete()
    RoutingRule.objects.filter(name__startswith=PREFIX).delete()
    Integration.objects.filter(name__startswith=PREFIX).delete()
    Contact.objects.filter(email__startswith=PREFIX).delete()
    # Through the ORM so ownership events, activities and returns go with the accounts.
    _delete(Account.objects.filter(domain__startswith=PREFIX))
    _delete(Rep.objects.filter(user__username__startswith=PREFIX))
    Team.objects.filter(name__startswith=PREFIX).delete()
    get_user_model().objects.filter(username__startswith=PREFIX).delete()


def _setup():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group


    call_command("createcachetable", verbosity=0)  # as run_portal does: API throttling counts live there
    sync_role_groups()
    User = get_user_model()
    groups = {role: Group.objects.get(name=name) for role, name in ROLE_GROUP.items()}

    def person(username, role, team, **extra):
        user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True, email=f"{username}@example.com")
        user.groups.add(groups[role])
        return Rep.objects.create(user=user, owner_name=username, role=role, team=team, **extra)

    teams = [Team.objects.create(name=f"{PREFIX}team-{t}") for t in range(MANAGERS)]
    managers = [person(f"{PREFIX}manager-{t}", Rep.Role.MANAGER, team) for t, team in enumerate(teams)]
    for team, manager in zip(teams, managers, strict=True):
        team.manager = manager
        team.save(update_fields=["manager"])
    sdrs = [person(f"{PREFIX}sdr-{i}", Rep.Role.SDR, teams[i % MANAGERS], capacity=CAPACITY,
                   manager=managers[i % MANAGERS]) for i in range(SDRS)]
    accounts = Account.objects.bulk_create([
        Account(name=f"Load book {i}", domain=f"{PREFIX}book-{i}.example.com", matching_key=f"{PREFIX}book-{i}.example.com")
        for i in range(SDRS * BOOK)
    ])
    account_owners_set(changes=[(a.pk, sdrs[i // BOOK].pk) for i, a in enumerate(accounts)],
                       reason=OwnershipReason.DISTRIBUTION, actor=None, note="load benchmark")
    queued = Account.objects.bulk_create([
        Account(name=f"Load lead {i}", domain=f"{PREFIX}lead-{i}.example.com", matching_key=f"{PREFIX}lead-{i}.example.com")
        for i in range(QUEUED)
    ])
    contacts = Contact.objects.bulk_create([
        Contact(first_name="Lead", last_name=str(i), email=f"{PREFIX}lead-{i}@lead-{i}.example.com", account=a)
        for i, a in enumerate(queued)
    ])
    rule = RoutingRule.objects.create(name=f"{PREFIX}queue", position=9999, strategy=Strategy.QUEUE)
    RoutingRuleMember.objects.bulk_create([RoutingRuleMember(rule=rule, rep=rep, order=n) for n, rep in enumerate(sdrs)])
    QueueItem.objects.bulk_create([QueueItem(rule=rule, contact=c, account_id=c.account_id) for c in contacts])
    tokens = {}
    for rep in sdrs:
        integration = Integration(name=f"{PREFIX}{rep.user.username}", user=rep.user,
                                  scopes=[Scope.READ, Scope.WRITE_LEADS_ACTIVITIES], throttle_rate="100000/min")
        tokens[rep.pk] = integration.set_token()
        integration.save()
    ops_user = User.objects.create_superuser(username=f"{PREFIX}ops", password=PASSWORD, email="load-ops@example.com")
    inbound = Integration(name=f"{PREFIX}inbound", user=ops_user,
                          scopes=[Scope.READ, Scope.WRITE_ACCOUNTS, Scope.WRITE_LEADS_ACTIVITIES],
                          throttle_rate="100000/min")
    inbound_token = inbound.set_token()
    inbound.save()
    books = {rep.pk: [a.pk for i, a in enumerate(accounts) if i // BOOK == n] for n, rep in enumerate(sdrs)}
    return sdrs, managers, books, tokens, inbound_token


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[str, int, float, str]] = []

    def add(self, action, status, seconds, key=""):
        with self.lock:
            self.rows.append((action, status, seconds, key))


def _login(session, base, username):
    import requests  # noqa: F401 - the session is a requests.Session

    page = session.get(f"{base}/admin/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{base}/admin/login/?next=/admin/", timeout=60, allow_redirects=False,
                          data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD, "next": "/admin/"},
                          headers={"Referer": f"{base}/admin/login/"})
    if answer.status_code != 302:
        raise RuntimeError(f"login of {username} failed: {answer.status_code}")


def _timed(recorder, action, call, key=""):
    start = time.perf_counter()
    try:
        response = call()
        status = response.status_code
    except Exception:  # noqa: BLE001 - a connection error counts as an error, not a crash of the run
        status = 0
        response = None
    recorder.add(action, status, time.perf_counter() - start, key)
    return response


def _sdr(base, rep, book, token, recorder, stop, seed):
    import requests

    rng = random.Random(seed)
    session = requests.Session()
    _login(session, base, rep.user.username)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    owned = list(book)
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.7 or not owned:
            subject = f"{PREFIX}{uuid.uuid4().hex}"
            _timed(recorder, "log activity (API)", lambda s=subject: api.post(
                f"{base}/api/activities/", json={"type": "call", "account": rng.choice(owned or book), "subject": s},
                timeout=60), key=subject)
        elif roll < 0.9:
            csrf = session.cookies.get("csrftoken")
            response = _timed(recorder, "claim from queue", lambda c=csrf: session.post(
                f"{base}/admin/routing/queueitem/claim-next/", data={"csrfmiddlewaretoken": c}, timeout=60,
                headers={"Referer": f"{base}/admin/"}, allow_redirects=False), key=str(rep.pk))
            del response
        else:
            account_id = owned.pop(rng.randrange(len(owned)))
            csrf = session.cookies.get("csrftoken")
            _timed(recorder, "file a return", lambda a=account_id, c=csrf: session.post(
                f"{base}/admin/routing/returnrequest/file/{a}/", timeout=60, allow_redirects=False,
                data={"csrfmiddlewaretoken": c, "reason": "bad_data", "note": "load benchmark"},
                headers={"Referer": f"{base}/admin/"}), key=str(account_id))
        stop.wait(rng.uniform(0.3, 0.9))


def _manager(base, rep, recorder, stop, seed):
    import requests

    rng = random.Random(seed)
    session = requests.Session()
    _login(session, base, rep.user.username)
    while not stop.is_set():
        _timed(recorder, "manager: team dashboard", lambda: session.get(f"{base}/admin/reports/team-dashboard/", timeout=60))
        stop.wait(rng.uniform(0.3, 0.9))


def _inbound(base, token, recorder, stop):
    import requests

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    n = 0
    next_at = time.monotonic()
    while not stop.is_set():
        # A registrable domain of its own, so each lead creates and routes a new account.
        domain = f"{PREFIX}inbound-{n}.com"
        _timed(recorder, "inbound lead (API)", lambda d=domain: api.post(
            f"{base}/api/leads/", json={"email": f"{PREFIX}lead@{d}", "first_name": "Load", "last_name": "Lead"},
            timeout=60), key=f"{PREFIX}lead@{domain}")
        n += 1
        next_at += INBOUND_EVERY  # a steady rate, whatever the latency
        stop.wait(max(0.0, next_at - time.monotonic()))


def _pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000 if ordered else 0.0


def _checks(recorder, sdrs):

    rows = recorder.rows
    problems = []
    subjects = [key for action, status, _, key in rows if action.startswith("log activity") and status == 201]
    counts = dict(Activity.objects.filter(subject__startswith=PREFIX).values_list("subject").annotate(n=Count("id")))
    if any(counts.get(s) != 1 for s in subjects) or len(counts) != len(subjects):
        problems.append(f"activities: {len(subjects)} accepted, {sum(counts.values())} stored")

    domains = [key for action, status, _, key in rows if action.startswith("inbound") and status == 201]
    stored = list(Contact.objects.filter(email__startswith=f"{PREFIX}lead@").values_list("email", flat=True))
    if sorted(domains) != sorted(stored):
        problems.append(f"inbound leads: {len(domains)} accepted, {len(stored)} stored")
    cycles = LeadCycle.objects.filter(contact__email__startswith=f"{PREFIX}lead@")
    if cycles.values("contact").annotate(n=Count("id")).filter(n__gt=1).exists():
        problems.append("an inbound lead got two lead cycles")
    # One owner per account is the schema (one FK); the history must agree with it.
    mismatched = 0
    for account_id, owner_id in Account.objects.filter(domain__startswith=PREFIX).values_list("pk", "owner_id"):
        last = OwnershipEvent.objects.filter(account_id=account_id).order_by("-id").values_list("to_rep_id", flat=True).first()
        if last is not None and last != owner_id:
            mismatched += 1
    if mismatched:
        problems.append(f"{mismatched} account(s) whose owner disagrees with their last ownership event")
    over = [rep.pk for rep in selectors.reps_with_capacity(type(sdrs[0]).objects.filter(pk__in=[r.pk for r in sdrs]))
            if rep.load > rep.base_capacity]
    if over:
        problems.append(f"{len(over)} rep(s) over capacity")
    claimed = QueueItem.objects.filter(rule__name__startswith=PREFIX, claimed_at__isnull=False)
    # A claim is the queue decision with a rep (outcome "rule"); an inbound lead of the run that
    # the rules queued also has its "queued" decision, which is not a claim.
    twice = (RoutingDecision.objects.filter(contact__email__startswith=PREFIX, strategy="queue",
                                            outcome=RoutingDecision.Outcome.RULE)
             .values("contact").annotate(n=Count("id")).filter(n__gt=1).count())
    if twice:
        problems.append(f"{twice} queue item(s) claimed twice")
    returns = [key for action, status, _, key in rows if action == "file a return" and status == 302]
    filed = ReturnRequest.objects.filter(account__domain__startswith=PREFIX, reason="bad_data").values("account").annotate(
        n=Count("id"))
    if len(returns) != filed.count() or filed.filter(n__gt=1).exists():
        problems.append(f"returns: {len(returns)} accepted, {filed.count()} stored")
    return problems, claimed.count(), len(subjects), len(domains), len(returns)


def portal_under_load(*, stdout, options) -> str:

    _cleanup()
    sdrs, managers, books, tokens, inbound_token = _setup()
    sdrs = list(Rep.objects.filter(pk__in=[r.pk for r in sdrs]).select_related("user"))
    managers = list(Rep.objects.filter(pk__in=[r.pk for r in managers]).select_related("user"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    workers = os.environ.get("LOAD_WEB_WORKERS", "4")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sdrops.settings.local", "DEBUG": "0", "CONN_MAX_AGE": "60",
           "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "AXES_FAILURE_LIMIT": "1000"}
    log = open(Path(settings.BASE_DIR) / "var" / "load-gunicorn.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sdrops.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", workers, "--timeout", "60"],
        env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    recorder, stop = Recorder(), threading.Event()
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start; see var/load-gunicorn.log")
            time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=SDRS + MANAGERS + 1) as pool:
            futures = [pool.submit(_sdr, base, rep, books[rep.pk], tokens[rep.pk], recorder, stop, n)
                       for n, rep in enumerate(sdrs)]
            futures += [pool.submit(_manager, base, rep, recorder, stop, 100 + n) for n, rep in enumerate(managers)]
            futures.append(pool.submit(_inbound, base, inbound_token, recorder, stop))
            started = time.monotonic()
            stop.wait(DURATION)
            stop.set()
            for future in futures:
                future.result()
            elapsed = time.monotonic() - started
    finally:
        stop.set()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    problems, claimed, activities, inbound, returns = _checks(recorder, sdrs)
    by_action = defaultdict(list)
    for action, status, seconds, _ in recorder.rows:
        by_action[action].append((status, seconds))
    lines = [
        "## Portal under load (50 SDRs, 5 managers, inbound API; gunicorn on 127.0.0.1)",
        "",
        f"{elapsed:.0f} s, gunicorn with {workers} sync workers (local settings, DEBUG off, CONN_MAX_AGE=60), "
        f"client threads on the same machine (sdrops/load_benchmark.py says why a thread pool). "
        f"{len(recorder.rows)} requests, {len(recorder.rows) / elapsed:.1f}/s overall.",
        "",
        "| action | requests | per s | p50 ms | p95 ms | p99 ms | 4xx | 5xx | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total_5xx = 0
    for action in sorted(by_action):
        rows = by_action[action]
        times = [s for _, s in rows]
        c4 = sum(1 for st, _ in rows if 400 <= st < 500)
        c5 = sum(1 for st, _ in rows if st >= 500)
        errors = sum(1 for st, _ in rows if st == 0)
        total_5xx += c5 + errors
        lines.append(f"| {action} | {len(rows)} | {len(rows) / elapsed:.1f} | {statistics.median(times) * 1000:.0f} | "
                     f"{_pct(times, 95):.0f} | {_pct(times, 99):.0f} | {c4} | {c5} | {errors} |")
    lines += [
        "",
        f"Data checks: {activities} accepted activities and {inbound} accepted inbound leads each stored exactly once (one contact, one lead cycle); "
        f"{returns} returns filed once each; {claimed} queue items claimed, none twice; no rep over capacity; "
        f"every account's owner equals its last ownership event."
        if not problems else "Data checks FAILED: " + "; ".join(problems),
        f"5xx and connection errors: {total_5xx} (the bar is zero).",
        f"Inbound: aimed at {1 / INBOUND_EVERY:.0f}/s, reached {len(by_action['inbound lead (API)']) / elapsed:.1f}/s — "
        "one client that waits for each answer, so it falls behind when an answer takes longer than the interval.",
    ]
    stdout.write("\n".join(lines))
    if problems or total_5xx:
        raise RuntimeError("; ".join(problems) or f"{total_5xx} server errors; see var/load-gunicorn.log")
    return "\n".join(lines)
