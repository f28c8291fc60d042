"""Declares in code what ops can later edit: the default rules of engagement, the weekly
distribution and daily retrieval schedules (upserted by name), and the role groups'
routing permissions."""

from django.db import migrations

SCHEDULES = [
    {
        "name": "routing.weekly_distribution",
        "func": "apps.routing.tasks.distribution_run_task",
        "cron": "0 6 * * 1",  # Mondays 06:00: books are full when the week starts.
    },
    {
        "name": "routing.daily_retrieval",
        "func": "apps.routing.tasks.retrieval_run_task",
        "cron": "30 5 * * *",  # Before the distribution, so retrieved accounts rest first.
    },
]


def forwards(apps, schema_editor):
    from apps.people.roles import sync_role_groups

    Schedule = apps.get_model("django_q", "Schedule")
    for spec in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            name=spec["name"], defaults={"func": spec["func"], "schedule_type": "C", "cron": spec["cron"], "repeats": -1}
        )
        if not created and schedule.func != spec["func"]:
            # The timing stays as ops edited it; only the code path is ours to move.
            schedule.func = spec["func"]
            schedule.save(update_fields=["func"])
    RulesOfEngagement = apps.get_model("routing", "RulesOfEngagement")
    RulesOfEngagement.objects.get_or_create(key="default")
    sync_role_groups(apps)


def backwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[s["name"] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0001_routing_rules_books_returns"),
        ("people", "0002_role_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
