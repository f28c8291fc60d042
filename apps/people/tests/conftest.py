"""Run the real django-q2 task functions in-process (settings.test has sync=True) with the
after-commit callbacks (emails) executed, as a cluster worker would.

Reference rows made by data migrations (reasons, SLA policy, cadences, schedules) are
deleted by the flush that ends every transactional test, and --reuse-db keeps the emptied
tables for the next run; the autouse fixture puts them back (idempotently) before each test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def lifecycle_reference_data(request):
    if not any(m.name == "django_db" for m in request.node.iter_markers()):
        if "db" not in request.fixturenames:
            return
        request.getfixturevalue("db")
    from apps.cadences.defaults import cadences_defaults_ensure
    from apps.cadences.schedules import schedules_sync
    from apps.people.defaults import lifecycle_defaults_ensure

    lifecycle_defaults_ensure()
    cadences_defaults_ensure()
    schedules_sync()


@pytest.fixture
def run_task(django_capture_on_commit_callbacks):
    from django_q.tasks import async_task, result

    def _run(func: str, *args):
        with django_capture_on_commit_callbacks(execute=True):
            task_id = async_task(func, *args)
        return result(task_id)

    return _run
