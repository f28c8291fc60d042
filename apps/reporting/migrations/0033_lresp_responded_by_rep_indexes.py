from django.db import migrations

# A team's (or one SDR's) response-time percentiles read the window's responded cycles of its
# reps: led by the rep, that is a slice per rep (a few index ranges), where lead_cycle_responded
# (led by the assignment time) reads every rep's responded cycles of the window and drops the
# others. The same for the arrival facts of the off-hours tables. Built concurrently so a live
# portal keeps writing.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reporting", "0032_lresp_arrival_fact_triggers"), ("leads", "0007_merge_fair_books_and_lead_work")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_cycle_responded_by_rep ON people_leadcycle "
            "(rep_id, assigned_at) INCLUDE (source, lead_type, first_touch_at, response_time) "
            "WHERE first_touch_at IS NOT NULL AND NOT bypassed_working AND exception_at IS NULL",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_cycle_responded_by_rep",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_arrivalfact_by_rep ON reporting_arrivalfact (rep_id, assigned_at)",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_arrivalfact_by_rep",
        ),
    ]
