"""PostgreSQL restarted under a running portal (`run_portal --production`: gunicorn workers
with persistent connections, a django-q2 cluster on Redis).

The database is a throwaway pgserver instance in a temporary directory, so the stop and
start touch nothing else. What must hold: a request in flight when the server goes down
and every request during the outage get 503 with Retry-After (never a 500); the portal
answers again by itself once the server is back (CONN_HEALTH_CHECKS drops the dead
connections); a schedule that fell due during the outage runs once after it, and the
recurring one never runs twice for one due time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.system.conftest import ROOT, free_port

pytestmark = [pytest.mark.system]

OUTAGE_SECONDS = 35  # longer than django-q2's 30-second scheduler tick: one tick hits the outage


def fetch(url: str, cookie: str = "", timeout: float = 60) -> tuple[int, dict, bytes]:
    accept = "application/json" if "/api/" in url else "text/html"
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept": accept} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return 0, {}, b""


def wait_until(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}")


def waiting_on(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                            [table]).fetchone()[0]


class Postgres:
    """A pgserver instance of its own, stopped and started with pg_ctl as an operator would."""

    def __init__(self, pgdata: Path):
        import pgserver

        self.pgserver = pgserver
        self.pgdata = pgdata
        self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self.server.psql("CREATE DATABASE faults;")
        self.url = self.server.get_uri("faults")
        self.socket_dir = urllib.parse.parse_qs(urllib.parse.urlparse(self.url).query)["host"][0]

    def stop(self):
        self.pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user, timeout=30)

    def start(self):
        self.pgserver.pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "restart.log"), "start"],
            pgdata=self.pgdata, user=self.server.system_user, timeout=30,
        )

    def cleanup(self):
        if (self.pgdata / "postmaster.pid").exists():
            self.stop()


@pytest.fixture
def postgres():
    # Not under pytest's tmp_path: every pytest session on the machine resets
    # /tmp/pytest-of-<user> to 0700, and the server runs as pgserver's own system user.
    root = Path(tempfile.mkdtemp(prefix="sdrops-pg-restart-"))
    root.chmod(0o755)
    server = Postgres(root / "pg")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def test_postgres_restart_under_a_running_portal(postgres, redis_url, tmp_path):
    probe = tmp_path / "probe.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sdrops.settings.production",
        "SECRET_KEY": "system-test-" + "x" * 50,
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": postgres.url,
        "CONN_MAX_AGE": "60",
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "2",
        "Q_CLUSTERS": "1",
        "Q_WORKERS": "1",
        "SDROPS_PROBE_FILE": str(probe),
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(tmp_path / "portal.log", "w")  # noqa: SIM115 - closed below
    portal = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_portal", "--production", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    statuses: list[tuple[str, int, str]] = []

    def record(what, status, headers):
        statuses.append((what, status, headers.get("Retry-After", "")))
        return status

    def shell(code: str) -> str:
        return subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], env=env, cwd=ROOT,
                              check=True, timeout=120, capture_output=True, text=True).stdout.strip()

    try:
        wait_until(lambda: fetch(f"{base}/healthz")[0] == 200, timeout=240, what="the portal to start")
        session = shell(
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.sessions.backends.db import SessionStore\n"
            "from django.utils import timezone\n"
            "from django_q.models import Schedule\n"
            "import datetime as dt\n"
            "u = get_user_model().objects.create_superuser('root', 'root@example.com', 'x-long-password-1')\n"
            "s = SessionStore(); s['_auth_user_id'] = str(u.pk)\n"
            "s['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n"
            "s['_auth_user_hash'] = u.get_session_auth_hash(); s.create()\n"
            "now = timezone.now()\n"
            "Schedule.objects.create(name='probe-minutely', func='tests.system.jobs.record', args=\"'minutely'\",\n"
            "    schedule_type=Schedule.MINUTES, minutes=1, next_run=now, intended_date_kwarg='intended', repeats=-1)\n"
            "Schedule.objects.create(name='probe-in-outage', func='tests.system.jobs.record', args=\"'in-outage'\",\n"
            "    schedule_type=Schedule.ONCE, next_run=now + dt.timedelta(seconds=15), repeats=-1)\n"
            "print(s.session_key)"
        ).splitlines()[-1]
        cookie = f"sessionid={session}"
        assert fetch(f"{base}/admin/", cookie)[0] == 200

        # A request in flight: it waits on a lock on the users table when the server stops.
        blocker = psycopg.connect(postgres.url)
        blocker.execute("LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE")
        in_flight: dict = {}
        thread = threading.Thread(target=lambda: in_flight.update(result=fetch(f"{base}/admin/", cookie)))
        thread.start()
        wait_until(lambda: waiting_on(postgres.url, "auth_user"), timeout=60, what="the request to wait on the database")
        postgres.stop()
        thread.join(60)
        with contextlib.suppress(psycopg.Error):
            blocker.close()
        status, headers, body = in_flight["result"]
        assert (status, headers.get("Retry-After")) == (503, "5"), body[:500]
        assert b"briefly unavailable" in body

        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            record("page", *fetch(f"{base}/admin/", cookie)[:2])
            record("api", *fetch(f"{base}/api/accounts/", cookie)[:2])
            record("health", *fetch(f"{base}/healthz")[:2])
            time.sleep(1)  # paces the probing during a fault that lasts a fixed time
        assert {status for _, status, _ in statuses} == {503}, Counter(statuses)
        assert all(retry == "5" for _, _, retry in statuses)

        postgres.start()
        # No restart of gunicorn or the cluster: the portal answers again by itself.
        wait_until(lambda: fetch(f"{base}/admin/", cookie)[0] == 200, timeout=30, what="the portal to recover")
        assert fetch(f"{base}/healthz")[0] == 200
        assert fetch(f"{base}/api/accounts/", cookie)[0] == 200

        def runs():
            return Counter(line.split("|")[0] for line in probe.read_text().splitlines()) if probe.exists() else Counter()

        wait_until(lambda: runs()["in-outage"] >= 1, timeout=90, what="the schedule due in the outage to catch up")
        minutely = [tuple(line.split("|")[:2]) for line in probe.read_text().splitlines() if line.startswith("minutely")]
        assert runs()["in-outage"] == 1
        assert len(minutely) == len(set(minutely)), "a recurring schedule ran twice for one due time"
        assert portal.poll() is None, "the portal survived the restart"
    finally:
        if portal.poll() is None:
            os.killpg(portal.pid, signal.SIGTERM)
            try:
                portal.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(portal.pid, signal.SIGKILL)
                portal.wait()
        log.close()
