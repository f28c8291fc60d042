from django.db import migrations


def forwards(apps, schema_editor):
    from apps.campaigns.defaults import nurture_defaults_ensure
    from apps.campaigns.schedules import schedules_ensure
    from apps.people.roles import sync_role_groups

    nurture_defaults_ensure(apps)
    schedules_ensure(apps.get_model("django_q", "Schedule"))
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_nurture_programs"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("people", "0005_default_reasons_and_sla_policies"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
