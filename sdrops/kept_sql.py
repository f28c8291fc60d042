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
queryset runs as the ORM builds it, every call. Rows come back as dicts keyed like `values()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
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
    sql: str
    # Per parameter: ("const", value) | ("value", name) | ("moved", name, interval)
    params: tuple[tuple, ...]
    names: tuple[str, ...]
    # Per converted column, as Django's compiler reads it: (index, converters, expression).
    converters: tuple[tuple, ...] = ()


def _stand_ins(values: dict, which: int) -> dict | None:
    out = {}
    for offset, (name, value) in enumerate(sorted(values.items())):
        if isinstance(value, bool) or not isinstance(value, (int, dt.datetime)):
            return None  # only ids and instants can be stood in for
        if isinstance(value, int):
            out[name] = _STAND_IN_IDS[which] - offset
        else:
            out[name] = _STAND_IN_INSTANTS[which] + dt.timedelta(minutes=offset * 7919)
    return out


def _compiled(qs: QuerySet):
    compiler = qs.query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    return compiler, sql, tuple(params)


def _keep(build: Callable[..., QuerySet], values: dict) -> _Kept | None:
    first, second = _stand_ins(values, 0), _stand_ins(values, 1)
    if first is None:
        return None
    try:
        compiler, sql, params_1 = _compiled(build(**first))
        _compiler, sql_2, params_2 = _compiled(build(**second))
    except Exception:  # noqa: BLE001 - a build the stand-ins cannot make (a negative slice, an empty IN): not kept
        return None
    if sql != sql_2 or len(params_1) != len(params_2):
        return None
    query = compiler.query
    if query.extra_select:
        return None
    converters = compiler.get_converters([col for col, _sql, _alias in compiler.select])
    slots = []
    for one, two in zip(params_1, params_2, strict=True):
        if type(one) is type(two) and one == two:
            if any(one == stand_in[name] for stand_in in (first, second) for name in stand_in):
                return None
            slots.append(("const", one))
            continue
        slot = None
        for name in first:
            if type(one) is type(first[name]) and one == first[name] and two == second[name]:
                slot = ("value", name)
            elif isinstance(one, dt.datetime) and isinstance(first[name], dt.datetime) and isinstance(two, dt.datetime) \
                    and one - first[name] == two - second[name]:
                slot = ("moved", name, one - first[name])
            if slot:
                break
        if slot is None:
            return None
        slots.append(slot)
    names = (*query.values_select, *query.annotation_select)
    if len(names) != len(compiler.select):
        return None
    return _Kept(sql=sql, params=tuple(slots), names=tuple(names),
                 converters=tuple((index, tuple(convs), expression) for index, (convs, expression) in converters.items()))


def kept_values(key: str, build: Callable[..., QuerySet], **values) -> list[dict]:
    """The rows of the `values()` queryset `build(**values)`, as dicts — from SQL compiled once
    per configuration version under `key` when the statement can be kept (see the module),
    else from the queryset itself. `build` must shape its statement only from `values` and
    versioned configuration."""
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
    with connection.cursor() as cursor:
        cursor.execute(kept.sql, params)
        rows = cursor.fetchall()
    if kept.converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, convs, expression in kept.converters:
                value = row[index]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[index] = value
    return [dict(zip(kept.names, row, strict=True)) for row in rows]


_NOT_KEPT = _Kept(sql="", params=(), names=())
