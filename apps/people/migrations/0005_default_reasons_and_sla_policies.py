"""Default disposition reasons (the Measurable Lead Model's good reasons, never vague ones),
the default inbound SLA policy (2 h target, 24 h maximum, calendar hours) and the settings row."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.people.defaults import lifecycle_defaults_ensure

    lifecycle_defaults_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [("people", "0004_lead_lifecycle_sla")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
