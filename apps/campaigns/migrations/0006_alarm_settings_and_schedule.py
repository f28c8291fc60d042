from django.db import migrations


def forwards(apps, schema_editor):
    from apps.campaigns.schedules import schedules_ensure
    from apps.people.roles import sync_role_groups

    apps.get_model("campaigns", "AlarmSettings").objects.get_or_create(pk=1)
    schedules_ensure(apps.get_model("django_q", "Schedule"))
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0005_alarms"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
