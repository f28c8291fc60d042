"""Open lead cycles now per rep and lead type (reporting.OpenLeadCount): the table; its
triggers are migration 0030_lresp_open_lead_count_triggers (a separate migration: the unique key
the triggers' upsert needs is created at the end of this one)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0028_merge_market_counts_and_campaign_outcomes"),
    ]

    operations = [
        migrations.CreateModel(
            name="OpenLeadCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rep_id", models.BigIntegerField(null=True)),
                ("lead_type", models.CharField(max_length=20)),
                ("open", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("rep_id", "lead_type"), name="reporting_openleadcount_key",
                                                        nulls_distinct=False)],
            },
        ),
    ]
