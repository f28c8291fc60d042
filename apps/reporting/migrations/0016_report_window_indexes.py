from django.db import migrations

# The rollups' raw ends (the partial UTC day at each end of a window) read meetings by their
# start and opportunities by their creation and pipeline dates: time indexes, so those reads stay
# a day's rows whatever the history. Built concurrently so a live portal keeps writing.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reporting", "0015_opportunity_day_trigger"), ("meetings", "0003_move_lead_models_from_people")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_meeting_scheduled ON meetings_meeting (scheduled_at)",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_meeting_scheduled",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_opportunity_created ON meetings_opportunity (created_at)",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_opportunity_created",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_opportunity_pipeline ON meetings_opportunity (pipeline_at) "
            "WHERE pipeline_at IS NOT NULL",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_opportunity_pipeline",
        ),
    ]
