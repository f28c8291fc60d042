from django.db import migrations

# The campaign page's median response (apps.campaigns.report_rollups), which no sum gives, reads the
# window's responded campaign cycles: a covering partial index gives that slice alone (index-only),
# instead of a scan of the cycles table, already grouped by campaign (one range per campaign), so
# the per-campaign median needs no sort of the whole slice first.
#
# The nurture page's "recycled from nurture" reads the period's cycles whose contact's previous
# cycle ended in nurture: such a cycle has number >= 2 (or is cycle 1 after a cycle 0, which the
# column allows). These partial indexes give those slices, so the read follows the period's
# recycled leads instead of every cycle of the period (apps.campaigns.nurture_report).
# Built concurrently so a live portal keeps writing.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reporting", "0028_merge_market_counts_and_campaign_outcomes"), ("leads", "0007_merge_fair_books_and_lead_work")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_cycle_campaign_responded ON people_leadcycle "
            "(campaign_record_id, assigned_at) INCLUDE (rep_id, lead_type, first_touch_at, response_time) "
            "WHERE campaign_record_id IS NOT NULL AND first_touch_at IS NOT NULL AND NOT bypassed_working "
            "AND exception_at IS NULL",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_cycle_campaign_responded",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_cycle_later_assigned ON people_leadcycle (assigned_at) "
            "INCLUDE (id, contact_id, number, rep_id, lead_type, is_opp, exception_at) WHERE number >= 2",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_cycle_later_assigned",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_cycle_zero_contact ON people_leadcycle (contact_id) "
            "WHERE number = 0",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_cycle_zero_contact",
        ),
    ]
