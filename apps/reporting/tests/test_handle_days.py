"""The handle-time day rollup equals the from-scratch computation: the handle-time rows to the
last digit, for windows whose local midnight is not UTC midnight (New York, Kolkata, Adelaide),
after the shared history fixture's exception marks, re-assigned cycles, moved touches and deletes
(the pages' cells: test_rollups)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from apps.people.models import Rep
from apps.reporting import balance
from apps.reporting.rollup_reads import from_history
from apps.reporting.tests.test_rollups import NOW, history  # noqa: F401  (the shared fixture)
from sdrops.api.scope import Scope

pytestmark = pytest.mark.django_db


def _scopes(user):
    for zone in ("UTC", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"):
        tz = zoneinfo.ZoneInfo(zone)
        for first, last in ((dt.date(2026, 2, 20), dt.date(2026, 3, 19)), (dt.date(2026, 3, 4), dt.date(2026, 3, 4)),
                            (dt.date(2026, 3, 3), dt.date(2026, 3, 11))):
            start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
            for rep_ids, lead_type in ((None, ""), (None, "outbound"), (tuple(Rep.objects.values_list("pk", flat=True)[:2]), "")):
                yield Scope(user=user, date_from=first, date_to=last, start=start, end=end, rep_ids=rep_ids, lead_type=lead_type)


@time_machine.travel(NOW, tick=False)
def test_handle_times_equal_the_history_statement_to_the_last_digit(history):  # noqa: F811
    compared = 0
    for scope in _scopes(history["ops"].user):
        kept = balance.handle_times(scope=scope)
        with from_history():
            scratch = balance.handle_times(scope=scope)
        assert kept == scratch, scope
        without = balance.handle_times(scope=scope, medians=False)
        assert [{k: v for k, v in r.items() if k != "handle_median_s"} for r in without["lead_type"]] == \
            [{k: v for k, v in r.items() if k != "handle_median_s"} for r in scratch["lead_type"]]
        compared += sum(r["dispositions"] for r in kept["lead_type"])
    assert compared > 100
