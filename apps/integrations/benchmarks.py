"""Benchmarks for the API and webhooks (`make bench BENCH_ARGS="--only integrations"`).

Each builds its own data in the bench database and removes it afterwards.
"""

from __future__ import annotations

import http.server
import statistics
import threading
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import Account, Activity, OwnershipEvent, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.integrations.models import EventType, Integration, OutboxEvent, WebhookEndpoint
from apps.integrations.outbox import outbox_sweep
from apps.integrations.services import integration_create
from apps.people.models import Rep, Team

PREFIX = "bench-integrations"


def _setup(n_accounts: int):
    call_command("createcachetable", verbosity=0)
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=f"{PREFIX}-svc", defaults={"is_superuser": True})
    team, _ = Team.objects.get_or_create(name=f"{PREFIX}-team")
    reps = []
    for n in range(2):
        rep_user, _ = User.objects.get_or_create(username=f"{PREFIX}-rep{n}")
        rep, _ = Rep.objects.get_or_create(
            user=rep_user, defaults={"owner_name": f"{PREFIX} Rep {n}", "role": Rep.Role.SDR, "team": team}
        )
        reps.append(rep)
    Account.objects.bulk_create(
        [Account(name=f"{PREFIX} {i}", domain=f"{PREFIX}-{i}.com", matching_key=f"{PREFIX}-{i}.com")
         for i in range(n_accounts)],
        batch_size=2000,
    )
    accounts = list(Account.objects.filter(name__startswith=PREFIX).order_by("pk").values_list("pk", flat=True))
    integration, token = integration_create(
        name=f"{PREFIX}-client", user=user, scopes=["read", "write_leads_activities", "write_accounts"],
        throttle_rate="1000000/min",
    )
    return user, reps, accounts, integration, token


def _teardown():
    WebhookEndpoint.objects.filter(name__startswith=PREFIX).delete()
    Integration.objects.filter(name__startswith=PREFIX).delete()
    accounts = Account.objects.filter(name__startswith=PREFIX)
    Activity.objects.filter(account__in=accounts).delete()
    OwnershipEvent.objects.filter(account__in=accounts).delete()
    accounts.delete()
    Rep.objects.filter(owner_name__startswith=PREFIX).delete()
    get_user_model().objects.filter(username__startswith=PREFIX).delete()
    Team.objects.filter(name__startswith=PREFIX).delete()


def bench_api(*, stdout, options):
    _teardown()
    user, reps, accounts, integration, token = _setup(2000)
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    rows = []
    try:
        timings = []
        for round_ in range(3):
            items = [{"type": "call", "account": accounts[(round_ * 1000 + i) % len(accounts)], "automated": True}
                     for i in range(1000)]
            started = time.perf_counter()
            response = client.post("/api/activities/bulk/", {"activities": items}, content_type="application/json")
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["created"] == 1000, response.content[:300]
        median = statistics.median(timings)
        rows.append(("POST /api/activities/bulk/ (1,000 items)", f"{median * 1000:.0f} ms", f"{1000 / median:,.0f} items/s"))

        timings = []
        for _ in range(5):
            url, pages, started = "/api/accounts/?page_size=1000", 0, time.perf_counter()
            while url:
                body = client.get(url).json()
                pages += 1
                url = body["next"]
                if url:
                    url = url.split("localhost", 1)[-1] if "localhost" in url else url
            timings.append(time.perf_counter() - started)
        median = statistics.median(timings)
        total = Account.objects.count()
        rows.append((f"GET /api/accounts/ all pages, page_size=1000 ({total:,} accounts)", f"{median * 1000:.0f} ms",
                     f"{total / median:,.0f} accounts/s"))

        timings = []
        for i in range(50):
            started = time.perf_counter()
            client.get(f"/api/accounts/{accounts[i]}/")
            timings.append(time.perf_counter() - started)
        rows.append(("GET /api/accounts/{id}/ (median of 50)", f"{statistics.median(timings) * 1000:.1f} ms", ""))
    finally:
        _teardown()
    lines = ["## API (integrations)", "", "| request | time | rate |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def bench_outbox(*, stdout, options):
    _teardown()
    user, reps, accounts, integration, token = _setup(5000)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rows = []
    try:
        started = time.perf_counter()
        account_owners_set(changes=[(pk, reps[0].pk) for pk in accounts], reason=OwnershipReason.DISTRIBUTION)
        without = time.perf_counter() - started
        rows.append(("assign 5,000 accounts, no endpoint subscribed", f"{without:.2f} s", ""))

        WebhookEndpoint.objects.create(
            name=f"{PREFIX}-endpoint", url=f"http://127.0.0.1:{server.server_address[1]}/hook",
            event_types=[EventType.ACCOUNT_ASSIGNED], allow_private_network=True,
        )
        started = time.perf_counter()
        account_owners_set(changes=[(pk, reps[1].pk) for pk in accounts], reason=OwnershipReason.DISTRIBUTION)
        with_outbox = time.perf_counter() - started
        rows.append(("assign 5,000 accounts, 1 endpoint subscribed (5,000 outbox rows)", f"{with_outbox:.2f} s",
                     f"+{(with_outbox - without) * 1000 / 5000:.2f} ms per event"))

        started = time.perf_counter()
        delivered = 0
        while delivered < 1000:
            done = outbox_sweep(limit=250)
            if not done:
                break
            delivered += done
        elapsed = time.perf_counter() - started
        rows.append((f"deliver {delivered:,} events to a local receiver (one sweep worker)", f"{elapsed:.2f} s",
                     f"{delivered / elapsed:,.0f} events/s"))
    finally:
        server.shutdown()
        server.server_close()
        OutboxEvent.objects.filter(endpoint__name__startswith=PREFIX).delete()
        _teardown()
    lines = ["## Outbox (integrations)", "", "| step | time | note |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


BENCHMARKS = [bench_api, bench_outbox]

# The whole portal under load: lives in sdrops/ because it drives every app.
from sdrops.load_benchmark import portal_under_load  # noqa: E402

BENCHMARKS.append(portal_under_load)
