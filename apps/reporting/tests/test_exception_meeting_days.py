"""The meetings of exception cycles per day (reporting_exceptionmeetingday) follow marks set and
cleared, meetings moved between cycles, re-dated and deleted: the rollup equals a rebuild, and
every cell of the meetings page equals the computation from history, in New York and Kolkata."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection

from apps.leads.models import ExceptionReason, LeadCycle
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.meetings.models import Meeting
from apps.reporting.rollup_reads import from_history
from apps.reporting.rollups import rollups_check
from apps.reporting.tests.test_rollups import NOW, WINDOWS, history, page_cells  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.django_db


def _kept_exception_meetings() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(meetings), 0) FROM reporting_exceptionmeetingday")
        return cursor.fetchone()[0]


@time_machine.travel(NOW, tick=False)
def test_exception_meetings_follow_marks_moves_and_deletes(history):  # noqa: F811
    assert rollups_check() == []
    booked = list(Meeting.objects.filter(lead_cycle__isnull=False).order_by("pk"))
    assert _kept_exception_meetings() == Meeting.objects.filter(lead_cycle__exception_at__isnull=False).count() > 0
    reason = ExceptionReason.objects.first()
    marked = LeadCycle.objects.get(pk=booked[0].lead_cycle_id)
    if marked.exception_at is None:
        lead_cycle_exception_mark(cycle=marked, reason=reason, actor=history["manager"], at=NOW)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=booked[1].lead_cycle_id), reason=reason,
                              actor=history["manager"], at=NOW)
    Meeting.objects.filter(pk=booked[2].pk).update(lead_cycle=booked[0].lead_cycle_id)  # into an exception cycle
    Meeting.objects.filter(pk=booked[1].pk).update(scheduled_at=dt.datetime(2026, 3, 6, 4, 30, tzinfo=dt.UTC),
                                                   scheduled_end_at=dt.datetime(2026, 3, 6, 5, 0, tzinfo=dt.UTC),
                                                   disposition_late=True)  # an exception meeting re-dated
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=booked[0].lead_cycle_id), actor=history["manager"],
                               at=NOW)  # its meetings count again
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=booked[3].lead_cycle_id), reason=reason,
                              actor=history["manager"], at=NOW)
    Meeting.objects.filter(pk=booked[3].pk).delete()
    assert _kept_exception_meetings() == Meeting.objects.filter(lead_cycle__exception_at__isnull=False).count() > 0
    assert rollups_check() == []
    for who in ("ops", "manager", "sdr"):
        for window in WINDOWS:
            query = {k: v for k, v in window.items() if k in ("date_from", "date_to")}
            kept = page_cells(history[who].user, "meetings", **query)
            with from_history():
                scratch = page_cells(history[who].user, "meetings", **query)
            assert kept == scratch, (who, window)
