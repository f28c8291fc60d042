"""The embedded PostgreSQL that development and tests use when no DATABASE_URL is set.

pgserver ships PostgreSQL binaries inside a wheel, so a fresh machine with only Python
needs no system packages and no root. Every process that opens the server registers a
handle; the server stops when the last of them exits, so Ctrl-C on `make run` (whose
children all hold handles) stops the database as well.
"""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("SDROPS_PGDATA", BASE_DIR / "var" / "pgdata"))
# `make bench` uses its own database so benchmark data never mixes with the demo.
DATABASE_NAME = os.environ.get("SDROPS_DATABASE_NAME", "sdrops")

_server = None
# Test settings defer the start (see `defer_start`): collecting tests needs no database.
_deferred = False
_placeholder_given = False


def server():
    """Start (or attach to) the embedded server; quiet, because it runs on every command."""
    global _server
    if _server is None:
        PGDATA.parent.mkdir(parents=True, exist_ok=True)
        # platformdirs (used by pgserver) warns on every start when this is unset.
        runtime = PGDATA.parent / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        import pgserver

        logging.getLogger("pgserver").setLevel(logging.WARNING)
        _prune_dead_handles()
        _server = pgserver.get_server(PGDATA, cleanup_mode="stop")
        # atexit runs last-registered first: forget worker processes that ended with
        # os._exit (django-q2's, multiprocessing's) before pgserver decides whether this
        # process is the last one and so should stop the server.
        atexit.register(_prune_dead_handles)
        exists = _server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
        )
        if "(1 row)" not in exists:
            _server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return _server


def database_url() -> str:
    global _placeholder_given
    if _deferred and _server is None:
        _placeholder_given = True
        # The socket directory pgserver picks for a pgdata path of ordinary length; the real
        # one is put in place by `start_deferred` before any connection is opened.
        return f"postgresql://postgres:@/{DATABASE_NAME}?host={PGDATA}"
    return server().get_uri(DATABASE_NAME)


def defer_start() -> None:
    """Do not start the server when the settings are imported, only on `start_deferred`.
    sdrops.settings.test calls this, so `pytest --collect-only` (and a run of tests that
    need no database) never waits for PostgreSQL; the root conftest starts it in the
    session's database setup."""
    global _deferred
    _deferred = True


def start_deferred(databases: dict) -> None:
    """Start the deferred server and point `databases` (settings.DATABASES, changed in
    place, which Django's connections share) at its real socket. A no-op unless deferred
    or when it already ran, and when the settings use a DATABASE_URL instead."""
    global _placeholder_given
    if not _placeholder_given:
        return
    import dj_database_url

    real = dj_database_url.parse(server().get_uri(DATABASE_NAME))
    for alias in databases.values():
        if alias.get("NAME") == DATABASE_NAME:
            alias["HOST"] = real["HOST"]
            alias.setdefault("OPTIONS", {}).update(real.get("OPTIONS", {}))
    _placeholder_given = False


def _prune_dead_handles() -> None:
    """pgserver keeps the pids of the processes using the server in a file and stops the
    server when the last one exits. A process that was killed (SIGKILL, a crashed test run)
    never removes its pid, which would keep the server up forever; drop those first."""
    import json

    import psutil

    handles = PGDATA / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    alive = [pid for pid in pids if running(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
