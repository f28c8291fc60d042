"""The "one X" rules of docs/architecture.md, checked against the source so they stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _production_modules():
    for path in sorted((ROOT / "apps").rglob("*.py")) + sorted((ROOT / "sdrops").rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts or path.name.startswith("test_"):
            continue
        yield path


def test_every_mail_goes_through_the_one_email_module():
    sending = re.compile(r"\b(send_mail|send_mass_mail|EmailMessage|EmailMultiAlternatives)\b")
    offenders = [
        str(path.relative_to(ROOT)) for path in _production_modules()
        if path != ROOT / "sdrops" / "mail.py" and sending.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_schedule_is_declared_in_the_registry_with_one_naming_style():
    from sdrops.schedules import registered

    jobs = registered()
    assert len(jobs) >= 12
    for job in jobs:
        app, _, what = job.name.partition(".")
        assert re.fullmatch(r"[a-z_]+", app) and re.fullmatch(r"[a-z_]+", what), job.name
        assert job.func.startswith(f"apps.{app}.") or job.func.startswith("sdrops."), job


def test_schedules_are_created_only_by_the_registry_sync():
    upsert = re.compile(r"Schedule(\.objects|_model\.objects|\b.*\.objects)\.(create|get_or_create|update_or_create)")
    offenders = [
        str(path.relative_to(ROOT)) for path in _production_modules()
        if path != ROOT / "sdrops" / "schedules.py" and upsert.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_sync_keeps_ops_timing_and_fixes_the_code_path():
    from django_q.models import Schedule

    from sdrops.schedules import registered, schedules_sync

    schedules_sync()
    Schedule.objects.filter(name="meetings.remind_ended_meetings").update(minutes=11, func="moved.elsewhere")
    Schedule.objects.filter(name="integrations.outbox_sweep").update(minutes=3)
    Schedule.objects.filter(name="icps.nightly_rescore").update(cron="0 3 * * *")
    schedules_sync()
    schedules_sync()
    rows = {row.name: row for row in Schedule.objects.all()}
    assert set(rows) >= {job.name for job in registered()}
    assert len(rows) == len(registered())
    assert rows["meetings.remind_ended_meetings"].minutes == 11
    assert rows["meetings.remind_ended_meetings"].func == "apps.meetings.tasks.remind_ended_meetings"
    assert rows["integrations.outbox_sweep"].minutes == 3
    assert rows["icps.nightly_rescore"].cron == "0 3 * * *"


@pytest.mark.django_db
def test_the_naming_migration_renames_old_rows_in_place_keeping_their_timing():
    import importlib

    from django.apps import apps
    from django_q.models import Schedule

    migration = importlib.import_module("sdrops.migrations.0001_schedule_names")
    Schedule.objects.all().delete()
    Schedule.objects.create(name="Lead SLA check", func="apps.cadences.tasks.lead_sla_check", schedule_type="I",
                            minutes=7, repeats=-1)  # ops made it every 7 minutes
    Schedule.objects.create(name="icps.nightly_rescore", func="apps.icps.tasks.rescore_all_accounts", schedule_type="C",
                            cron="15 2 * * *", repeats=-1)
    Schedule.objects.create(name="icps: nightly rescore", func="apps.icps.tasks.rescore_all_accounts",
                            schedule_type="C", cron="15 2 * * *", repeats=-1)
    migration.forwards(apps, None)
    assert sorted(Schedule.objects.values_list("name", "minutes")) == [
        ("cadences.lead_sla_check", 7), ("icps.nightly_rescore", None)]


@pytest.mark.django_db
def test_the_lead_schedule_migration_moves_old_rows_to_leads_keeping_their_timing():
    import importlib

    from django.apps import apps
    from django_q.models import Schedule

    migration = importlib.import_module("sdrops.migrations.0003_lead_schedule_names")
    Schedule.objects.all().delete()
    Schedule.objects.create(name="cadences.lead_sla_check", func="apps.cadences.tasks.lead_sla_check",
                            schedule_type="I", minutes=7, repeats=-1)  # ops made it every 7 minutes
    # Created meanwhile with the default timing: the old row (ops' timing) wins.
    Schedule.objects.create(name="leads.sla_check", func="apps.leads.tasks.lead_sla_check", schedule_type="I",
                            minutes=5, repeats=-1)
    Schedule.objects.create(name="Lead auto-abandon", func="apps.leads.tasks.lead_auto_abandon", schedule_type="D",
                            repeats=-1)
    migration.forwards(apps, None)
    assert sorted(Schedule.objects.values_list("name", "func", "schedule_type", "minutes")) == [
        ("leads.auto_abandon", "apps.leads.tasks.lead_auto_abandon", "D", None),
        ("leads.sla_check", "apps.leads.tasks.lead_sla_check", "I", 7),
    ]


def test_the_meeting_conditions_are_written_once_as_queryset_methods():
    # Meeting.objects.overdue(now) / ended(now) / started(now) / upcoming(now): apps/meetings/models.py.
    conditions = re.compile(r"disposition_due_at__lt\b|scheduled_end_at__lte\b")
    offenders = [
        str(path.relative_to(ROOT)) for path in _production_modules()
        if path != ROOT / "apps" / "meetings" / "models.py" and conditions.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_rep_availability_is_written_once():
    # Rep.objects.available(on) / rep.is_available(on): apps/people/models.py.
    condition = re.compile(r"out_of_office_from__lte|\.active and not [a-z_.]*is_out_of_office")
    offenders = [
        str(path.relative_to(ROOT)) for path in _production_modules()
        if path != ROOT / "apps" / "people" / "models.py" and condition.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_who_sees_what_is_defined_in_the_one_access_module():
    definition = re.compile(r"^def ([a-z_]+_visible_to|rep_for_user|user_sees_everything|scoped_rep_ids)\(", re.M)
    elsewhere = {
        str(path.relative_to(ROOT)): definition.findall(path.read_text(encoding="utf-8"))
        for path in _production_modules() if path != ROOT / "sdrops" / "access.py"
    }
    assert {path: names for path, names in elsewhere.items() if names} == {}



def test_callers_import_who_sees_what_from_the_access_module_not_a_re_export():
    """Every name sdrops.access defines is imported from sdrops.access, and no other module
    imports it just to hand it on (`noqa: F401` re-exports are how three rules once lived twice)."""
    import ast

    access = ast.parse((ROOT / "sdrops" / "access.py").read_text(encoding="utf-8"))
    rules = {node.name for node in access.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}
    offenders = []
    paths = sorted((ROOT / "apps").rglob("*.py")) + sorted((ROOT / "sdrops").rglob("*.py")) + sorted(
        (ROOT / "tests").rglob("*.py"))
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module != "sdrops.access":
                names = {alias.name for alias in node.names} & rules
                if names and node.module.startswith(("apps.", "sdrops.")):
                    offenders.append((str(path.relative_to(ROOT)), node.module, sorted(names)))
            if isinstance(node, ast.ImportFrom) and node.module == "sdrops.access":
                used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
                    n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
                unused = {alias.asname or alias.name for alias in node.names} - used
                if unused:
                    offenders.append((str(path.relative_to(ROOT)), "re-exports", sorted(unused)))
    assert offenders == []

def test_every_production_module_imports():
    # A moved module leaves no stale import behind (management commands are imported only
    # when run, so nothing else would notice).
    import importlib

    failures = {}
    for path in _production_modules():
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name == "sdrops.settings.production":  # refuses to load without production secrets
            continue
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - every failure is reported
            failures[name] = f"{type(error).__name__}: {error}"
    assert failures == {}
