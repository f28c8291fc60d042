"""reporting.StepReachedDay and StepReachedCadenceDay kept by statement triggers on
reporting_enrolmentstepday itself (its upserts fire the INSERT and the UPDATE triggers, with the
inserted and the updated rows): each row's steps +as it is after, −as it was before, the rows of
unreached steps (pending in an ended enrolment) left out. A TRUNCATE empties both. Filled here.

reporting_stepreacheddays_rebuild() recomputes both from the step rollup
(apps.reporting.cadence_reads.REBUILD, after the cadence rollups' own rebuild)."""

from django.db import migrations

REACHED = "NOT (x.outcome = 'pending' AND x.state <> 'active')"  # EnrolmentStep.Outcome.PENDING, Enrolment.State.ACTIVE

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_stepreached_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    -- src: (sign, day, rep_id, cadence_id, position, outcome, state, steps); two statements
    SELECT format($q$
    INSERT INTO reporting_stepreachedday AS r (day, rep_id, cadence_id, position, outcome, steps)
    SELECT x.day, x.rep_id, x.cadence_id, x.position, x.outcome, sum(x.sign * x.steps)
    FROM (%1$s) x WHERE """ + REACHED + r"""
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.sign * x.steps) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, cadence_id, position, outcome) DO UPDATE SET steps = r.steps + EXCLUDED.steps;
    INSERT INTO reporting_stepreachedcadenceday AS r (day, cadence_id, position, outcome, steps)
    SELECT x.day, x.cadence_id, x.position, x.outcome, sum(x.sign * x.steps)
    FROM (%1$s) x WHERE """ + REACHED + r"""
    GROUP BY 1, 2, 3, 4 HAVING sum(x.sign * x.steps) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, cadence_id, position, outcome) DO UPDATE SET steps = r.steps + EXCLUDED.steps
    $q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_stepreached_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := 'day, rep_id, cadence_id, position, outcome, state, steps';
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_stepreached_sql(format('SELECT 1 AS sign, %s FROM new_rows', cols));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE reporting_stepreached_sql(format('SELECT -1 AS sign, %s FROM old_rows', cols));
    ELSE
        EXECUTE reporting_stepreached_sql(format('SELECT 1 AS sign, %1$s FROM new_rows UNION ALL '
                                                 'SELECT -1, %1$s FROM old_rows', cols));
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_stepreacheddays_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_stepreachedday;
    DELETE FROM reporting_stepreachedcadenceday;
    EXECUTE reporting_stepreached_sql(
        'SELECT 1 AS sign, day, rep_id, cadence_id, position, outcome, state, steps FROM reporting_enrolmentstepday');
END $fn$;

CREATE OR REPLACE FUNCTION reporting_stepreached_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_stepreachedday;
    DELETE FROM reporting_stepreachedcadenceday;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    [f"CREATE TRIGGER reporting_stepreached_{event.lower()} AFTER {event} ON reporting_enrolmentstepday REFERENCING {refs} "
     "FOR EACH STATEMENT EXECUTE FUNCTION reporting_stepreached_changed();"
     for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                         ("DELETE", "OLD TABLE AS old_rows"))]
    + ["CREATE TRIGGER reporting_stepreached_truncate AFTER TRUNCATE ON reporting_enrolmentstepday "
       "FOR EACH STATEMENT EXECUTE FUNCTION reporting_stepreached_truncated();",
       "SELECT reporting_stepreacheddays_rebuild();"])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_stepreached_{event} ON reporting_enrolmentstepday;"
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_stepreached_truncated();", "DROP FUNCTION IF EXISTS reporting_stepreacheddays_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_stepreached_changed();", "DROP FUNCTION IF EXISTS reporting_stepreached_sql(text);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0037_mid_step_reached_days"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
    ]
