"""Starter market segment rules, so a new install has a wall that matches what the pool took
before (ICP-matched prospects); ops edit or replace them in the admin."""

from django.db import migrations

STARTER_RULES = [
    # (position, name, segment, conditions, note)
    (10, "Disqualified", "G", {"statuses": ["disqualified"]},
     "Disqualified (no fit, out of business): nothing to do with what we sell."),
    (20, "Customers", "B", {"statuses": ["customer"]}, "Won already: inside what we can capture."),
    (30, "ICP fit", "B", {"icp_fit": "fit"}, "An ICP matches with a fit score at the fit threshold: the accounts to work."),
    (40, "ICP match, weak fit", "C", {"icp_fit": "weak"},
     "An ICP matches but the fit is weak: accounts we cannot serve well yet (hold my beer)."),
    (50, "No ICP match, complete data", "D", {"icp_fit": "none", "data_quality": "complete"},
     "Known and complete, but no ICP fits any more: sins of your youth."),
    (60, "No ICP match, incomplete data", "G", {"icp_fit": "none", "data_quality": "incomplete"},
     "No ICP fits and the data is too thin to tell: cruft."),
]


def add_rules(apps, schema_editor):
    Rule = apps.get_model("markets", "MarketSegmentRule")
    if Rule.objects.exists():
        return
    for position, name, segment, conditions, note in STARTER_RULES:
        Rule.objects.create(position=position, name=name, segment=segment, note=note, **conditions)


class Migration(migrations.Migration):
    dependencies = [("markets", "0001_initial")]
    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
