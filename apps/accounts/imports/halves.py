"""A big accounts file's second half checked by a copy of the process while it checks the first.

The per-row checks of an accounts import are pure Python on one core (about 14 µs a row)
while the database waits for the rows, on a machine with a second core idle. So a file of
more than PARALLEL_ABOVE rows forks: the copy checks the rows after the middle line, this
process the rows up to it, and the copy's findings are taken when they are exactly what
checking those rows here, after the first half, would have found. That is the case when

- no domain or alias is used in both halves (the copy started with no record of the first
  half's domains, so it could not say "appears twice"), and
- no account holds the digest of a second-half row (the copy cannot ask the database; an
  unchanged row would have been skipped here).

Otherwise — and when the copy fails or cannot be started — the second half is checked here
as well, so the outcome never depends on it; only the time does. A re-import of an unchanged
file is the case that falls back (every digest is held), and its checks are mostly skipped.

The copy would share this process's database connection sockets: it closes its duplicates of
them first, runs no statement (one is refused before it is sent) and ends with os._exit.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal

from django.db import connection, connections

from apps.accounts.imports.digests import chunked, stored_digests

# Below this many rows, starting a copy of the process costs about what it would save.
PARALLEL_ABOVE = 20_000


class SecondHalf:
    def __init__(self, pid: int, read_fd: int, after_line: int):
        self.pid, self.read_fd, self.after_line = pid, read_fd, after_line
        self.done = False

    @classmethod
    def start(cls, table, check, result, aliases, seen, digests_seen) -> SecondHalf | None:
        """Fork the copy, before this process checks any row: `check` and the state it fills
        (`result`, `aliases`, `seen`, `digests_seen`) are then still empty in the copy."""
        after_line = 1 + table.approximate_rows // 2  # the header is line 1
        try:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
        except OSError:
            return None
        if pid == 0:  # the copy
            try:
                os.close(read_fd)
                _let_go_of_database_sockets()
                try:
                    with connection.execute_wrapper(_refuse_queries):
                        check(table.rows(after_line=after_line), _nothing_stored, report=False)
                    payload = ("checked", result.rows, result.errors, aliases, result.total,
                               list(seen), list(digests_seen))
                except BaseException as error:  # noqa: BLE001 — this process checks them instead
                    payload = ("failed", f"{type(error).__name__}: {error}")
                with os.fdopen(write_fd, "wb") as pipe:
                    pickle.dump(payload, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                os._exit(0)
        os.close(write_fd)
        return cls(pid, read_fd, after_line)

    def merge_into(self, result, aliases, seen) -> bool:
        """Add the copy's findings to this process's when they are exact (see the module's
        docstring); False when the second half must be checked here."""
        try:
            with os.fdopen(self.read_fd, "rb") as pipe:
                payload = pickle.load(pipe)
        except Exception:  # noqa: BLE001 — the copy died or wrote nothing whole
            payload = ("failed",)
        finally:
            self.done = True
            os.waitpid(self.pid, 0)
        if payload[0] != "checked":
            return False
        _kind, rows, errors, their_aliases, total, their_domains, their_digests = payload
        if not seen.keys().isdisjoint(their_domains):
            return False
        if any(stored_digests(digests) for digests in chunked(their_digests)):
            return False
        result.rows.extend(rows)
        result.errors.extend(errors)
        result.total += total
        aliases.extend(their_aliases)
        return True

    def close(self) -> None:
        """After merge_into, nothing; before it (this side failed), stop and reap the copy."""
        if self.done:
            return
        self.done = True
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.read_fd)


def _let_go_of_database_sockets() -> None:
    """Close the copy's duplicates of the connection sockets (nothing is sent: closing a
    duplicate descriptor is not a disconnection), so that if this process is killed the
    server sees its connection end at once rather than when the copy ends."""
    for database in connections.all(initialized_only=True):
        if database.connection is not None:
            with contextlib.suppress(OSError):
                os.close(database.connection.fileno())


def _nothing_stored(_digests: list[bytes]) -> dict:
    return {}


def _refuse_queries(execute, sql, params, many, context):
    raise RuntimeError("An import's second-half checks ran a database statement: " + sql[:80])
