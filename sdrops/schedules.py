"""The schedule registry: every app declares its django-q2 schedules in its own
`schedules.py` as `SCHEDULES = [Job(...), ...]`; `schedules_sync` applies all of them.

One sync rule, whoever runs it (the `sync_schedules` command, post_migrate, an app's data
migration):
  * a job with no row of its name is created with the declared timing;
  * an existing row gets the declared *code path* (func, args) — moving a task function is
    ours to do;
  * its *timing* (schedule type, minutes, cron, next run, repeats) is left as it is: ops
    edit that in the admin (Background jobs → Scheduled tasks) and a deploy must not undo it.

Names: "<app label>.<what it does>" in snake case (`routing.daily_retrieval`); the name is
also the django-q2 task group, so a job's runs are found under its name.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import module_has_submodule


@dataclass(frozen=True)
class Job:
    name: str
    func: str
    schedule_type: str  # django_q Schedule types: "I" minutes, "H" hourly, "D" daily, "C" cron …
    minutes: int | None = None
    cron: str | None = None
    args: str | None = None
    # When the first run is due; by default django-q2's (now). A job that must not run at
    # once on a fresh install (a nightly rescore) names its first slot.
    first_run: Callable[[dt.datetime], dt.datetime] | None = None

    def __getitem__(self, key: str):
        # The first data migrations read their specs as dicts (spec["name"]); they cannot change.
        return getattr(self, key)


def next_cron_slot(cron: str) -> Callable[[dt.datetime], dt.datetime]:
    def first(now: dt.datetime) -> dt.datetime:
        from croniter import croniter  # django-q2's own cron dependency

        return croniter(cron, now).get_next(type(now))

    return first


def app_jobs(app_name: str) -> list[Job]:
    """The jobs one app declares (its `<app>.schedules.SCHEDULES`)."""
    module = importlib.import_module(app_name)
    if not module_has_submodule(module, "schedules"):
        return []
    return list(getattr(importlib.import_module(f"{app_name}.schedules"), "SCHEDULES", []))


def registered() -> list[Job]:
    """Every installed app's jobs, in INSTALLED_APPS order."""
    from django.apps import apps

    jobs = [job for config in apps.get_app_configs() for job in app_jobs(config.name)]
    names = [job.name for job in jobs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Schedule names declared twice: {', '.join(duplicates)}")
    return jobs


def schedules_sync(*, jobs: list[Job] | None = None, Schedule=None) -> list:
    """Apply the registry (or `jobs`) to the Schedule table; returns the rows. `Schedule`
    is the historical model when a data migration calls this."""
    if Schedule is None:
        from django_q.models import Schedule
    from django.utils import timezone

    rows = []
    for job in registered() if jobs is None else jobs:
        schedule = Schedule.objects.filter(name=job.name).order_by("pk").first()
        if schedule is None:
            fields = {"name": job.name, "func": job.func, "args": job.args, "schedule_type": job.schedule_type,
                      "minutes": job.minutes, "cron": job.cron, "repeats": -1}
            if job.first_run is not None:
                fields["next_run"] = job.first_run(timezone.now())
            schedule = Schedule.objects.create(**fields)
        elif (schedule.func, schedule.args) != (job.func, job.args):
            schedule.func, schedule.args = job.func, job.args
            schedule.save(update_fields=["func", "args"])
        rows.append(schedule)
    return rows
