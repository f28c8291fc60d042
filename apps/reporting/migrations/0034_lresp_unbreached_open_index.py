from django.db import migrations

# The cycle rollup's readers add, at request time, the untouched open cycles of the window that
# passed their SLA maximum by now without a recorded breach (rollup_reads.cohort_parts): through
# lead_cycle_untouched_open that visited every untouched open cycle of the window in the heap to
# drop the breached ones and those without a maximum (7,356 heap rows for none kept at 1M
# activities). Only cycles with a maximum not yet flagged breached are in this index, keyed by
# the maximum, with the columns the read needs: the read is the range past its maximum — the
# cycles the breach job has not reached yet, not the window's open ones — index-only.
# Built concurrently so a live portal keeps writing.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reporting", "0033_lresp_responded_by_rep_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_cycle_unbreached_open ON people_leadcycle (sla_maximum_at) "
            "INCLUDE (assigned_at, rep_id, source, lead_type, campaign_record_id) "
            "WHERE first_touch_at IS NULL AND dispositioned_at IS NULL AND exception_at IS NULL AND NOT sla_breached "
            "AND sla_maximum_at IS NOT NULL",
            "DROP INDEX CONCURRENTLY IF EXISTS reporting_cycle_unbreached_open",
        ),
    ]
