from __future__ import annotations

import http.server
import json
import threading

import pytest
from rest_framework.test import APIClient

from apps.integrations.models import Scope
from apps.integrations.services import integration_create

ALL_SCOPES = [Scope.READ, Scope.WRITE_LEADS_ACTIVITIES, Scope.WRITE_ACCOUNTS]


@pytest.fixture
def make_client(db):
    """make_client(rep_or_user, scopes=[...], rate="") → (APIClient with the integration's
    token, integration)."""

    counter = {"n": 0}

    def make(who, scopes=ALL_SCOPES, rate=""):
        user = getattr(who, "user", who)
        counter["n"] += 1
        integration, token = integration_create(
            name=f"tool-{user.username}-{counter['n']}", user=user, scopes=list(scopes), throttle_rate=rate
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, integration

    return make


@pytest.fixture
def superuser(db):
    from apps.people.tests.factories import UserFactory

    return UserFactory(username="crm-sync", is_superuser=True)


class Receiver:
    """A real HTTP server on 127.0.0.1 in a thread. `script` is a list of behaviours for
    successive requests ("ok", "fail", "hang"); the last one repeats."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script = ["ok"]
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                n = len(receiver.requests)
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                behaviour = receiver.script[min(n, len(receiver.script) - 1)]
                if behaviour == "hang":
                    receiver.release.wait(10)
                    return
                code = 200 if behaviour == "ok" else 500
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": code == 200}).encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sdrops"

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()
