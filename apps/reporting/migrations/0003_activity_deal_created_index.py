from django.db import migrations

# "Days since the last opportunity" reads each rep's latest deal_created activity: a small
# partial index instead of scanning every activity (1M rows in the benchmark). Built
# concurrently so a live portal keeps logging activities meanwhile.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reporting", "0002_default_targets_and_roles"), ("accounts", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_activity_deal_created "
            "ON accounts_activity (rep_id, occurred_at) WHERE type = 'deal_created'",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_activity_deal_created",
        ),
    ]
