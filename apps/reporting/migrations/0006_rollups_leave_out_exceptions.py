"""Lead-cycle exceptions (issue 22, leads 0003_lead_cycle_exceptions) are in no performance
number: the daily cycle rollup leaves out cycles with `exception_at` set. Marking a cycle an
exception is an UPDATE, so the trigger subtracts its counts; clearing it adds them back. The
rollups are rebuilt once so cycles already marked leave the counts now."""

from django.db import migrations

CYCLEDAY_FUNCTION = r"""
CREATE OR REPLACE FUNCTION reporting_cycleday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_cycleday AS r
        (day, rep_id, source, lead_type, campaign_id, assigned, picked_up, responded, qualified, opp, breaches, no_touch)
    SELECT (x.assigned_at AT TIME ZONE 'UTC')::date, x.rep_id, x.source, x.lead_type, x.campaign_record_id,
           sum(x.sign),
           sum(x.sign * (x.worked_at IS NOT NULL OR x.dispositioned_at IS NOT NULL)::int),
           sum(x.sign * (x.first_touch_at IS NOT NULL AND NOT x.bypassed_working)::int),
           sum(x.sign * x.is_sql::int),
           sum(x.sign * x.is_opp::int),
           -- settled breaches only: an untouched open cycle's breach depends on the clock
           sum(x.sign * coalesce(x.sla_breached OR (x.sla_maximum_at IS NOT NULL AND (
                   (x.first_touch_at IS NOT NULL AND x.first_touch_at > x.sla_maximum_at)
                   OR (x.first_touch_at IS NULL AND x.dispositioned_at IS NOT NULL
                       AND x.sla_maximum_at < x.dispositioned_at))), false)::int),
           sum(x.sign * (x.dispositioned_at IS NOT NULL AND x.first_touch_at IS NULL)::int)
    FROM (%s) x
    WHERE x.exception_at IS NULL  -- exceptions (issue 22) are in no number
    GROUP BY 1, 2, 3, 4, 5
    HAVING ROW(sum(x.sign), sum(x.sign * (x.worked_at IS NOT NULL OR x.dispositioned_at IS NOT NULL)::int),
               sum(x.sign * (x.first_touch_at IS NOT NULL AND NOT x.bypassed_working)::int),
               sum(x.sign * x.is_sql::int), sum(x.sign * x.is_opp::int),
               sum(x.sign * coalesce(x.sla_breached OR (x.sla_maximum_at IS NOT NULL AND (
                   (x.first_touch_at IS NOT NULL AND x.first_touch_at > x.sla_maximum_at)
                   OR (x.first_touch_at IS NULL AND x.dispositioned_at IS NOT NULL
                       AND x.sla_maximum_at < x.dispositioned_at))), false)::int),
               sum(x.sign * (x.dispositioned_at IS NOT NULL AND x.first_touch_at IS NULL)::int))
           <> ROW(0, 0, 0, 0, 0, 0, 0)
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, source, lead_type, campaign_id) DO UPDATE SET
        assigned = r.assigned + EXCLUDED.assigned, picked_up = r.picked_up + EXCLUDED.picked_up,
        responded = r.responded + EXCLUDED.responded, qualified = r.qualified + EXCLUDED.qualified,
        opp = r.opp + EXCLUDED.opp, breaches = r.breaches + EXCLUDED.breaches, no_touch = r.no_touch + EXCLUDED.no_touch
$q$, src)
$fn$;

"""

# The function as migration 0005 left it (for the way back).
PREVIOUS = r"""
CREATE OR REPLACE FUNCTION reporting_cycleday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_cycleday AS r
        (day, rep_id, source, lead_type, campaign_id, assigned, picked_up, responded, qualified, opp, breaches, no_touch)
    SELECT (x.assigned_at AT TIME ZONE 'UTC')::date, x.rep_id, x.source, x.lead_type, x.campaign_record_id,
           sum(x.sign),
           sum(x.sign * (x.worked_at IS NOT NULL OR x.dispositioned_at IS NOT NULL)::int),
           sum(x.sign * (x.first_touch_at IS NOT NULL AND NOT x.bypassed_working)::int),
           sum(x.sign * x.is_sql::int),
           sum(x.sign * x.is_opp::int),
           -- settled breaches only: an untouched open cycle's breach depends on the clock
           sum(x.sign * coalesce(x.sla_breached OR (x.sla_maximum_at IS NOT NULL AND (
                   (x.first_touch_at IS NOT NULL AND x.first_touch_at > x.sla_maximum_at)
                   OR (x.first_touch_at IS NULL AND x.dispositioned_at IS NOT NULL
                       AND x.sla_maximum_at < x.dispositioned_at))), false)::int),
           sum(x.sign * (x.dispositioned_at IS NOT NULL AND x.first_touch_at IS NULL)::int)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5
    HAVING ROW(sum(x.sign), sum(x.sign * (x.worked_at IS NOT NULL OR x.dispositioned_at IS NOT NULL)::int),
               sum(x.sign * (x.first_touch_at IS NOT NULL AND NOT x.bypassed_working)::int),
               sum(x.sign * x.is_sql::int), sum(x.sign * x.is_opp::int),
               sum(x.sign * coalesce(x.sla_breached OR (x.sla_maximum_at IS NOT NULL AND (
                   (x.first_touch_at IS NOT NULL AND x.first_touch_at > x.sla_maximum_at)
                   OR (x.first_touch_at IS NULL AND x.dispositioned_at IS NOT NULL
                       AND x.sla_maximum_at < x.dispositioned_at))), false)::int),
               sum(x.sign * (x.dispositioned_at IS NOT NULL AND x.first_touch_at IS NULL)::int))
           <> ROW(0, 0, 0, 0, 0, 0, 0)
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, source, lead_type, campaign_id) DO UPDATE SET
        assigned = r.assigned + EXCLUDED.assigned, picked_up = r.picked_up + EXCLUDED.picked_up,
        responded = r.responded + EXCLUDED.responded, qualified = r.qualified + EXCLUDED.qualified,
        opp = r.opp + EXCLUDED.opp, breaches = r.breaches + EXCLUDED.breaches, no_touch = r.no_touch + EXCLUDED.no_touch
$q$, src)
$fn$;

"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0005_rollup_triggers"),
        ("leads", "0005_report_indexes_without_exceptions"),
    ]

    operations = [
        migrations.RunSQL(CYCLEDAY_FUNCTION + "\nSELECT reporting_rollups_rebuild();",
                          PREVIOUS + "\nSELECT reporting_rollups_rebuild();"),
    ]
