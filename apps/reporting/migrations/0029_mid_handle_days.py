"""reporting.HandleDay: reporting_handlefact summed per UTC day of disposition, rep and lead
type (kept by the triggers of migration 0030), and a covering index of the facts with a first
touch for the balance page's median handle time (an index-only read of the window)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0028_merge_market_counts_and_campaign_outcomes"),
    ]

    operations = [
        migrations.CreateModel(
            name="HandleDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("rep_id", models.BigIntegerField(null=True)),
                ("lead_type", models.CharField(max_length=20)),
                ("dispositions", models.IntegerField(default=0)),
                ("touches", models.BigIntegerField(default=0)),
                ("handled", models.IntegerField(default=0)),
                ("handle_s", models.DecimalField(decimal_places=6, default=0, max_digits=30)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id", "lead_type"), nulls_distinct=False,
                                                        name="reporting_handleday_key")],
            },
        ),
        migrations.AddIndex(
            model_name="handlefact",
            index=models.Index(condition=models.Q(("first_touch_at__isnull", False)), fields=["dispositioned_at"],
                               include=("rep_id", "lead_type", "first_touch_at"), name="reporting_handlefact_touched"),
        ),
    ]
