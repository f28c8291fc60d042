"""Ops admins get the new import record permissions (their role covers all of accounts)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.people.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_import_record"),
        ("people", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
