"""The exception cycles' enrolment facts (reporting_exceptionenrolment) follow marks set and
cleared, enrolments moved between cycles, re-dated and deleted: the table equals a rebuild, and
every cell of the cadence page equals the computation from history, in New York and Kolkata."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection

from apps.cadences.models import Enrolment
from apps.leads.models import ExceptionReason, LeadCycle
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.reporting.rollup_reads import from_history
from apps.reporting.rollups import rollups_check
from apps.reporting.tests.test_rollups import NOW, WINDOWS, history, page_cells  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.django_db


def _kept() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT enrolment_id FROM reporting_exceptionenrolment")
        return {row[0] for row in cursor.fetchall()}


def _expected() -> set[int]:
    return set(Enrolment.objects.filter(lead_cycle__exception_at__isnull=False).values_list("pk", flat=True))


@time_machine.travel(NOW, tick=False)
def test_exception_enrolments_follow_marks_moves_and_deletes(history):  # noqa: F811
    assert rollups_check() == []
    assert _kept() == _expected() != set()
    enrolled = list(Enrolment.objects.filter(lead_cycle__isnull=False).order_by("pk"))
    reason = ExceptionReason.objects.first()
    manager = history["manager"]
    first = LeadCycle.objects.get(pk=enrolled[0].lead_cycle_id)
    if first.exception_at is None:
        lead_cycle_exception_mark(cycle=first, reason=reason, actor=manager, at=NOW)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=enrolled[1].lead_cycle_id), reason=reason, actor=manager, at=NOW)
    Enrolment.objects.filter(pk=enrolled[2].pk).update(lead_cycle=enrolled[0].lead_cycle_id)  # into an exception cycle
    Enrolment.objects.filter(pk=enrolled[1].pk).update(enrolled_at=dt.datetime(2026, 3, 6, 4, 30, tzinfo=dt.UTC))  # re-dated
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=enrolled[0].lead_cycle_id), actor=manager, at=NOW)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=enrolled[3].lead_cycle_id), reason=reason, actor=manager, at=NOW)
    Enrolment.objects.filter(pk=enrolled[3].pk).delete()
    assert _kept() == _expected() != set()
    assert rollups_check() == []
    for who in ("ops", "manager", "sdr"):
        for window in WINDOWS:
            query = {k: v for k, v in window.items() if k in ("date_from", "date_to", "lead_type")}
            kept = page_cells(history[who].user, "cadences", **query)
            with from_history():
                scratch = page_cells(history[who].user, "cadences", **query)
            assert kept == scratch, (who, window)
