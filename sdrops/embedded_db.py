"""The embedded PostgreSQL that development and tests use when no DATABASE_URL is set.

pgserver ships PostgreSQL binaries inside a wheel, so a fresh machine with only Python
needs no system packages and no root. Every process that opens the server registers a
handle; the server stops when the last of them exits, so Ctrl-C on `make run` (whose
children all hold handles) stops the database as well.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("SDROPS_PGDATA", BASE_DIR / "var" / "pgdata"))
# `make bench` uses its own database so benchmark data never mixes with the demo.
DATABASE_NAME = os.environ.get("SDROPS_DATABASE_NAME", "sdrops")

_server = None


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
        _server = pgserver.get_server(PGDATA, cleanup_mode="stop")
        exists = _server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
        )
        if "(1 row)" not in exists:
            _server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return _server


def database_url() -> str:
    return server().get_uri(DATABASE_NAME)
