"""Run the real django-q2 task functions in-process (settings.test has sync=True) with the
after-commit callbacks (emails) executed, as a cluster worker would."""

from __future__ import annotations

import pytest


@pytest.fixture
def run_task(django_capture_on_commit_callbacks):
    from django_q.tasks import async_task, result

    def _run(func: str, *args):
        with django_capture_on_commit_callbacks(execute=True):
            task_id = async_task(func, *args)
        return result(task_id)

    return _run
