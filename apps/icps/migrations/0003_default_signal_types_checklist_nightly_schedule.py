from django.db import migrations


def forwards(apps, schema_editor):
    from apps.icps.defaults import icps_defaults_ensure
    from apps.people.roles import sync_role_groups

    icps_defaults_ensure(apps)
    # New icps models → new permissions for the ops role.
    sync_role_groups(apps)


def backwards(apps, schema_editor):
    from apps.icps.defaults import NIGHTLY_SCHEDULE

    apps.get_model("django_q", "Schedule").objects.filter(name=NIGHTLY_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("icps", "0002_scoring_rules_signals_research"),
        ("people", "0002_role_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
