from django.db import migrations


def defaults(apps, schema_editor):
    from apps.campaigns.qualification import qualification_defaults_ensure

    qualification_defaults_ensure(apps)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_qualification_criteria")]
    operations = [migrations.RunPython(defaults, migrations.RunPython.noop)]
