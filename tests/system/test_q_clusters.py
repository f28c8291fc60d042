"""Two django-q2 clusters on one database and one Redis broker: every due schedule runs once,
every queued task completes. Real processes, real Redis; bounded in time."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.utils import timezone
from django_q.models import Schedule

from tests.system.conftest import ROOT

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

DUE_TIMES = 12  # a day of two-hourly due times, compressed into one minute
SPACING_SECONDS = 5
QUEUED_TASKS = 300


def read_runs(probe):
    if not probe.exists():
        return []
    return [line.split("|") for line in probe.read_text().splitlines() if line]


def test_two_clusters_on_redis_run_each_due_schedule_once_and_every_task(redis_url, cluster_env, start_clusters):
    env, probe = cluster_env
    env = {**env, "REDIS_URL": redis_url}
    start = timezone.now() + dt.timedelta(seconds=2)
    for i in range(DUE_TIMES):
        Schedule.objects.create(
            name=f"probe-once-{i}", func="tests.system.jobs.record", args=f"'once-{i}'",
            schedule_type=Schedule.ONCE, next_run=start + dt.timedelta(seconds=i * SPACING_SECONDS),
            intended_date_kwarg="intended", repeats=-1,
        )
    Schedule.objects.create(
        name="probe-every-minute", func="tests.system.jobs.record", args="'minutely'",
        schedule_type=Schedule.MINUTES, minutes=1, next_run=start, intended_date_kwarg="intended", repeats=-1,
    )
    clusters = start_clusters(env, count=2)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c",
         "from django_q.tasks import async_task\n"
         f"for i in range({QUEUED_TASKS}): async_task('tests.system.jobs.record', f'queued-{{i}}')"],
        env=env, cwd=ROOT, check=True, timeout=120, capture_output=True,
    )
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        runs = read_runs(probe)
        labels = Counter(label for label, _, _ in runs)
        done_once = sum(1 for i in range(DUE_TIMES) if labels[f"once-{i}"])
        done_queued = sum(1 for i in range(QUEUED_TASKS) if labels[f"queued-{i}"])
        if done_once == DUE_TIMES and done_queued == QUEUED_TASKS and labels["minutely"] >= 2:
            break
        time.sleep(1)
    clusters.stop()
    runs = read_runs(probe)
    per_due_time = Counter((label, intended) for label, intended, _ in runs)
    assert all(n == 1 for n in per_due_time.values()), [k for k, n in per_due_time.items() if n > 1]
    labels = Counter(label for label, _, _ in runs)
    assert [labels[f"once-{i}"] for i in range(DUE_TIMES)] == [1] * DUE_TIMES
    assert [labels[f"queued-{i}"] for i in range(QUEUED_TASKS)] == [1] * QUEUED_TASKS
    assert labels["minutely"] >= 2, "the recurring schedule ran at each of its due times"
    assert len({pid for _, _, pid in runs}) >= 2, "work was spread over several worker processes"
    assert not Schedule.objects.filter(name__startswith="probe-once").exists()
