"""Per-process caches of configuration that hot paths read on every call (webhook
subscriptions, SLA policies, the webmail list, the active ICPs and scoring thresholds,
users' permission sets), invalidated through one version number in the database.

Why a version row and not a time-to-live or Django signals: several gunicorn workers and
django-q2 workers each hold their own copy, and configuration is changed through the
admin, services, `QuerySet.update()`, imports and raw SQL. Statement-level triggers on
every cached table (migration sdrops 0006) set `sdrops_configversion.version` to the next
value of a sequence in the transaction of the change, so:

- a process sees a new version exactly when the change is committed (the row is MVCC like
  any other), never before — a copy loaded under the new version is the new data;
- version numbers are never reused (a sequence ignores rollbacks), so a rolled-back change
  cannot make an old copy look current;
- a missing row (a test database flushed with TRUNCATE) means "do not cache".

The price: transactions that change cached configuration take turns on that one row from
their first change to their commit (admin edits are short; PostgreSQL breaks a deadlock
between two of them by failing one). An append-only table of versions would avoid the
wait, but its newest committed row does not follow commit order, so a change committed
late behind a newer one could be missed; the single row cannot.

The version is read at most once per unit of work and usually costs no statement of its
own: API authentication selects it with the integration (`version_sql()` as a column), and
`lead_route` with its account lock; both then run inside `checked(version)`. Outside such a
scope, `cached()` reads it with one small statement. A unit of work therefore sees the
configuration as of its start, like a request that began a moment earlier.

Known limit: the cache is per process and unbounded per key space (permission sets grow
with the number of users seen by that worker, a few hundred bytes each).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from django.db import connection

T = TypeVar("T")

VERSION_SQL = "SELECT version FROM sdrops_configversion WHERE id = 1"

_checked: ContextVar[int | None] = ContextVar("sdrops_config_version", default=None)
# Inside a GET or HEAD request (ConfigVersionMiddleware): the first version read holds for the
# rest of the request, its template rendering included.
_sticky: ContextVar[bool] = ContextVar("sdrops_config_version_sticky", default=False)
_entries: dict[object, tuple[int, object]] = {}
_lock = threading.Lock()


def version_sql() -> str:
    """A scalar subquery to add to a statement a unit of work runs anyway."""
    return f"({VERSION_SQL})"


def version_read() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else None


def _read_for_unit() -> int | None:
    """A version read on behalf of the current unit of work: kept for the rest of a read-only
    request (a page whose permission checks, menus and template tags each asked in their own
    scope read it two or three times)."""
    version = version_read()
    if _sticky.get() and version is not None:
        _checked.set(version)
    return version


@contextlib.contextmanager
def checked(version: int | None):
    """Run the block with `version` as the configuration version just read from the database."""
    token = _checked.set(version)
    try:
        yield
    finally:
        _checked.reset(token)


def current_or_read() -> int | None:
    """The version the current unit of work checked, else one read now."""
    version = _checked.get()
    return _read_for_unit() if version is None else version


def one_version(view):
    """For read-only views: the view runs under one read of the version, so every cache it
    (and the admin's menus) consults costs that one statement. Only for views that write no
    cached configuration: a value loaded after such a write in the same transaction would be
    filed under the version read before it."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        with checked(current_or_read()):
            return view(*args, **kwargs)

    return wrapped


def version_set(version: int | None) -> None:
    """Set the checked version for the rest of the current context (a request: the
    middleware `ConfigVersionMiddleware` opens and closes that context)."""
    _checked.set(version)


def cached(key: object, loader: Callable[[], T]) -> T:
    """`loader()`'s value for `key`, loaded again only when the configuration version changed.

    The value must be immutable (or never mutated by callers): it is shared by every thread
    of the process."""
    version = _checked.get()
    if version is None:
        version = _read_for_unit()
        if version is None:
            return loader()
    entry = _entries.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]  # type: ignore[return-value]
    # Loaded after the version was read: the value is at least as new as the version says.
    value = loader()
    with _lock:
        _entries[key] = (version, value)
    return value


def clear() -> None:
    """Forget every cached value (tests that bypass the triggers use it)."""
    with _lock:
        _entries.clear()


class ConfigVersionMiddleware:
    """Gives each request its own configuration-version context, so a version checked by
    one request (API authentication) never leaks into the next one on the same thread.

    A GET or HEAD request writes no configuration, so the first version it reads holds until it
    ends (`_read_for_unit`); other methods read per unit of work, as jobs do, because a value
    loaded after their own write must not be filed under the version read before it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _checked.set(None)
        sticky = _sticky.set(request.method in ("GET", "HEAD"))
        try:
            return self.get_response(request)
        finally:
            _sticky.reset(sticky)
            _checked.reset(token)
