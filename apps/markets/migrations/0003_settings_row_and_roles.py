"""The coverage settings row and the role permissions (ops may do everything in markets)."""

from django.db import migrations


def reference_data(apps, schema_editor):
    from apps.people.roles import sync_role_groups

    apps.get_model("markets", "CoverageSettings").objects.get_or_create(pk=1)
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("markets", "0002_starter_rules"), ("people", "0002_role_groups")]
    operations = [migrations.RunPython(reference_data, migrations.RunPython.noop)]
