"""The rules of engagement become a settings singleton (sdrops.singleton): the one row is
pk 1. A database whose row got another id (it was created by `key="default"`) has it
moved to 1 first, with the rules-change history that names it."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    RulesOfEngagement = apps.get_model("routing", "RulesOfEngagement")
    RulesChange = apps.get_model("routing", "RulesChange")
    rows = list(RulesOfEngagement.objects.order_by("pk").values_list("pk", flat=True))
    if rows and 1 not in rows:
        RulesOfEngagement.objects.filter(pk=rows[0]).update(id=1)
        RulesChange.objects.filter(object_type="rules of engagement", object_id=rows[0]).update(object_id=1)
    RulesOfEngagement.objects.exclude(pk=1).delete()  # never more than the one "default" row (key is unique)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0003_decision_rule_latest_index"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="rulesofengagement",
            constraint=models.CheckConstraint(condition=models.Q(("pk", 1)), name="roe_single_row"),
        ),
    ]
