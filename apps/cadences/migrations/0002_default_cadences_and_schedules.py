"""The two default cadences from the Measurable Lead Model, the lifecycle's schedules, and
role permissions for the new models."""

from django.db import migrations

def forwards(apps, schema_editor):
    from apps.cadences.defaults import cadences_defaults_ensure
    from apps.cadences.schedules import schedules_sync
    from apps.people.roles import sync_role_groups

    cadences_defaults_ensure(apps)
    schedules_sync(apps)
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("cadences", "0001_cadences_and_enrolments"),
        ("people", "0005_default_reasons_and_sla_policies"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
