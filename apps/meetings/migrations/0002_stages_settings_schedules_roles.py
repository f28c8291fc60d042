"""Default opportunity stages, the settings row, the reminder/escalation schedules, and the
role groups' new meeting permissions."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.meetings.defaults import meetings_defaults_ensure
    from apps.meetings.schedules import schedules_ensure
    from apps.people.roles import sync_role_groups

    meetings_defaults_ensure(apps)
    schedules_ensure(apps)
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0001_meetings_opportunities"),
        ("people", "0003_lead_cycles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
