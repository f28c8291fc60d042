"""Read statements the ORM builds the same way on every call, compiled once per process and
configuration version and run again with each call's values.

Why: a few record-page reads are querysets of many expressions — an account's coverage (six
subqueries and three CASEs), the segment rule that matches it now (one filtered COUNT per
active rule) — and the ORM took 7 ms to compile each of them on every request, more than the
database took to run them. Their shape depends only on configuration (the coverage settings,
the active rules), which sdrops.config_cache versions; the account and the time are values.

How a statement is kept, and why it is safe: `build(**values)` is compiled twice, with two
sets of stand-in values of the same types (ids that no table holds, instants in 1901 and 1902
on different days of different months). The statement is kept only when both compile to the
same SQL and every parameter either is the same in both (a constant: a rule's value) or is a
stand-in — or, for an instant, a stand-in moved by the same interval in both (a window start
such as `now - 90 days`). Anything else (a value that changes the SQL's shape, a value
transformed on its way, a column Django would convert when reading) is not kept: the
queryset runs as the ORM builds it, every call.

A kept statement runs through Django's own iterables (model instances with their
select_related objects and annotations, `values()` dicts, `values_list()` tuples, converters
and prefetches as usual): the stand-in queryset is cloned and its compiler, already set up
by the stand-in compile, answers `as_sql()` with the kept SQL and this call's parameters. The
result is a list, never the queryset: the clone still carries the stand-in values, and a
`.count()` or a further `.filter()` on it would compile them.

Known limit: kept statements live in the process's configuration cache, one per key; keys
that name a scope grow with the number of distinct scopes the process serves (a user's
worth of statements each, dropped at the next configuration change).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from sdrops import config_cache

# Stand-ins: ids below any sequence's range, instants no row holds. Two sets, unlike each other
# in every component, so an interval that holds for both is a constant interval.
_STAND_IN_IDS = (-7_301_553_211, -4_102_889_097)
_STAND_IN_INSTANTS = (
    dt.datetime(1901, 1, 31, 3, 4, 5, 123_457, tzinfo=dt.UTC),
    dt.datetime(1902, 6, 11, 17, 41, 29, 654_321, tzinfo=dt.UTC),
)


@dataclass(frozen=True)
class _Kept:
    queryset: QuerySet | None  # built from the first stand-ins, never evaluated
    compiler: object
    sql: str
    # Per parameter: ("const", value) | ("value", name) | ("moved", name, interval)
    params: tuple[tuple, ...]


_NOT_KEPT = _Kept(queryset=None, compiler=None, sql="", params=())


def _stand_ins(values: dict, which: int) -> dict | None:
    out = {}
    for offset, (name, value) in enumerate(sorted(values.items())):
        if isinstance(value, bool) or not isinstance(value, (int, dt.datetime)):
            return None  # only ids and instants can be stood in for
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return None  # Django makes a naive instant aware on its way; the kept SQL would not
        if isinstance(value, int):
            out[name] = _STAND_IN_IDS[which] - offset
        else:
            out[name] = _STAND_IN_INSTANTS[which] + dt.timedelta(minutes=offset * 7919)
    return out


def _compiled(qs: QuerySet):
    compiler = qs.query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    return compiler, sql, tuple(params)


def _slot(one, two, first: dict, second: dict) -> tuple | None:
    if type(one) is type(two) and one == two:
        if any(one == stand_in[name] for stand_in in (first, second) for name in stand_in):
            return None
        return ("const", one)
    for name in first:
        if type(one) is type(first[name]) and one == first[name] and two == second[name]:
            return ("value", name)
        if isinstance(one, dt.datetime) and isinstance(first[name], dt.datetime) and isinstance(two, dt.datetime) \
                and one - first[name] == two - second[name]:
            return ("moved", name, one - first[name])
    return None


def _keep(build: Callable[..., QuerySet], values: dict) -> _Kept | None:
    first, second = _stand_ins(values, 0), _stand_ins(values, 1)
    if first is None:
        return None
    try:
        queryset = build(**first)
        compiler, sql, params_1 = _compiled(queryset._chain())
        _compiler, sql_2, params_2 = _compiled(build(**second))
    except Exception:  # noqa: BLE001 - a build the stand-ins cannot make (a negative slice, an empty IN): not kept
        return None
    if sql != sql_2 or len(params_1) != len(params_2) or queryset._known_related_objects or compiler.query.combinator:
        return None
    slots = [_slot(one, two, first, second) for one, two in zip(params_1, params_2, strict=True)]
    if None in slots:
        return None
    return _Kept(queryset=queryset, compiler=compiler, sql=sql, params=tuple(slots))


def kept_list(key: object, build: Callable[..., QuerySet], **values) -> list:
    """`list(build(**values))` — model instances, `values()` dicts or `values_list()` tuples —
    from SQL compiled once per configuration version under `key` when the statement can be
    kept (see the module), else from the queryset itself. `build` must shape its statement
    only from `values`, versioned configuration and whatever `key` names (e.g. a scope)."""
    version = config_cache.current_or_read()
    # Nothing to file it under (a flushed test database), or values of a kind the kept SQL
    # cannot take as they are (a str id, a naive instant): the ORM, as is.
    if version is None or _stand_ins(values, 0) is None:
        return list(build(**values))
    with config_cache.checked(version):
        kept = config_cache.cached(("kept_sql", key), lambda: _keep(build, values) or _NOT_KEPT)
    if kept is _NOT_KEPT:
        return list(build(**values))
    params = []
    for slot in kept.params:
        kind = slot[0]
        if kind == "const":
            params.append(slot[1])
        elif kind == "value":
            params.append(values[slot[1]])
        else:
            params.append(values[slot[1]] + slot[2])
    queryset = kept.queryset._chain()
    db = queryset.db
    compiler = copy.copy(kept.compiler)
    compiler.connection, compiler.using = connections[db], db
    compiler.as_sql = lambda *args, **kwargs: (kept.sql, tuple(params))
    queryset.query.get_compiler = lambda *args, **kwargs: compiler
    return list(queryset)
