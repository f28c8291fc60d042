from django.db import migrations


def forwards(apps, schema_editor):
    from apps.people.roles import sync_role_groups

    apps.get_model("reporting", "FunnelTargets").objects.get_or_create(pk=1)
    # Ops edit the targets: their group gains the new model's permissions.
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_funnel_targets"), ("people", "0002_role_groups")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
