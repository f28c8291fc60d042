"""The arrival facts rebuilt in place: `rebuild_report_rollups --check` rebuilds inside a
transaction it rolls back, and 0032's rebuild deleted and re-inserted all 180,000 facts at 1M
activities: as many dead rows after the rollback, the visibility map cleared (the window read is
index-only), stale statistics — the next off-hours read fell back to a sequential scan (215 ms
instead of ~80 ms) until autovacuum came by. Now the rebuild deletes only facts whose cycle no
longer has one and the upsert rewrites only facts that differ (the same upsert serves the
triggers, which then skip unchanged facts too)."""

from django.db import migrations

COLUMNS = ("rep_id", "lead_type", "source", "sla_policy_id", "assigned_at", "arrival", "local_day", "local_time",
           "local_dow", "responded", "response_s", "calendar_s")

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_arrivalfact_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_arrivalfact AS f (cycle_id, rep_id, lead_type, source, sla_policy_id, assigned_at, arrival,
                                            local_day, local_time, local_dow, responded, response_s, calendar_s)
    SELECT c.id, c.rep_id, c.lead_type, c.source, c.sla_policy_id, c.assigned_at, l.arrival,
           l.local_at::date, l.local_at::time, extract(isodow FROM l.local_at)::int - 1,
           c.first_touch_at IS NOT NULL AND NOT c.bypassed_working,
           -- the values percentile_cont orders (it takes double precision): selectors.SQL_OFF_HOURS
           EXTRACT(EPOCH FROM COALESCE(c.response_time, c.first_touch_at - c.assigned_at))::float8,
           EXTRACT(EPOCH FROM c.first_touch_at - l.arrival)::float8
    FROM (%s) c
    LEFT JOIN people_rep r ON r.id = c.rep_id
    CROSS JOIN LATERAL (SELECT LEAST(c.created_at, c.assigned_at) AS arrival,
                               LEAST(c.created_at, c.assigned_at) AT TIME ZONE COALESCE(r.time_zone, 'UTC') AS local_at) l
    WHERE c.sla_policy_id IS NOT NULL AND c.exception_at IS NULL
    ORDER BY c.id
    ON CONFLICT (cycle_id) DO UPDATE SET __SET__
    WHERE (__OLD__) IS DISTINCT FROM (__NEW__)
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_arrivals_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_arrivalfact f WHERE NOT EXISTS (
        SELECT 1 FROM people_leadcycle c WHERE c.id = f.cycle_id AND c.sla_policy_id IS NOT NULL AND c.exception_at IS NULL);
    EXECUTE reporting_arrivalfact_sql('SELECT * FROM people_leadcycle');
END $fn$;
""".replace("__SET__", ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)).replace(
    "__OLD__", ", ".join(f"f.{c}" for c in COLUMNS)).replace("__NEW__", ", ".join(f"EXCLUDED.{c}" for c in COLUMNS))


class Migration(migrations.Migration):

    dependencies = [("reporting", "0036_lresp_arrival_trigger_set_based")]

    operations = [
        # Backwards: 0032's functions are recreated by migrating back past it; these reach the same facts.
        migrations.RunSQL(FUNCTIONS, migrations.RunSQL.noop),
    ]
