"""Declares in code what ops can later edit: the default rules of engagement, the weekly
distribution and daily retrieval schedules (upserted by name), and the role groups'
routing permissions."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.people.roles import sync_role_groups
    from apps.routing.schedules import schedules_ensure

    schedules_ensure(apps.get_model("django_q", "Schedule"))
    apps.get_model("routing", "RulesOfEngagement").objects.get_or_create(key="default")
    sync_role_groups(apps)


def backwards(apps, schema_editor):
    from apps.routing.schedules import SCHEDULES

    apps.get_model("django_q", "Schedule").objects.filter(name__in=[s["name"] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0001_routing_rules_books_returns"),
        ("people", "0002_role_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
