"""Fixtures that start real servers: Redis, and django-q2 clusters as separate processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing: `make test-system` installs Debian's redis-server.")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def database_url() -> str:
    """The test database as a URL, so separate processes use what this test committed."""
    s = connection.settings_dict
    host = s["HOST"] or s["OPTIONS"].get("host", "")
    if host.startswith("/"):
        return f"postgresql://{s['USER']}:{s['PASSWORD'] or ''}@/{s['NAME']}?host={host}"
    return f"postgresql://{s['USER']}:{s['PASSWORD'] or ''}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def cluster_env(tmp_path):
    """Environment for child processes: the test database, local settings, a probe file."""
    probe = tmp_path / "probe.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sdrops.settings.local",
        "DATABASE_URL": database_url(),
        "SDROPS_PROBE_FILE": str(probe),
        "PYTHONPATH": str(ROOT),
        "Q_WORKERS": "2",
        "DEBUG": "0",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env, probe


class Clusters:
    def __init__(self, env, count, log_dir):
        self.processes = []
        for i in range(count):
            log = open(log_dir / f"cluster{i}.log", "w")  # noqa: SIM115 - closed in stop()
            self.processes.append((
                subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], env=env, cwd=ROOT,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True),
                log,
            ))

    def kill(self):
        """SIGKILL every process of every cluster (sentinel, workers, monitor): a machine that died."""
        for process, log in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            log.close()

    def stop(self, grace: float = 15):
        for process, _ in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process, log in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # django-q2 can hang on SIGTERM (open upstream issue): fall back to SIGKILL.
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if not log.closed:
                log.close()


@pytest.fixture
def start_clusters(tmp_path):
    started = []

    def start(env, count=2):
        clusters = Clusters(env, count, tmp_path)
        started.append(clusters)
        return clusters

    yield start
    for clusters in started:
        clusters.stop()
