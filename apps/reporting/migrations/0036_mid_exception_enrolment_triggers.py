"""reporting.ExceptionEnrolment kept by statement triggers on the enrolment facts and on lead
cycles: a facts statement drops the rows of the enrolments it touched and re-adds those whose
cycle is marked an exception now; a lead cycle statement adds the facts of the cycles that became
exceptions (or were inserted as ones) and drops those of the cycles that stopped being ones (or
were deleted). Facts and cycles are never changed by the same statement, so each side reads the
other as it is. A TRUNCATE of either rebuilds. Filled here.

reporting_exceptionenrolments_rebuild() recomputes it (apps.reporting.cadence_reads.REBUILD)."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_exceptionenrolment_fact_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM reporting_exceptionenrolment x WHERE x.enrolment_id IN (SELECT enrolment_id FROM old_rows);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reporting_exceptionenrolment (enrolment_id, lead_cycle_id, enrolled_at)
        SELECT n.enrolment_id, n.lead_cycle_id, n.enrolled_at FROM new_rows n
        JOIN people_leadcycle c ON c.id = n.lead_cycle_id WHERE c.exception_at IS NOT NULL
        ON CONFLICT (enrolment_id) DO UPDATE SET lead_cycle_id = EXCLUDED.lead_cycle_id, enrolled_at = EXCLUDED.enrolled_at;
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionenrolment_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    gone text;
    came text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        came := 'SELECT id FROM new_rows WHERE exception_at IS NOT NULL';
    ELSIF TG_OP = 'DELETE' THEN
        gone := 'SELECT id FROM old_rows WHERE exception_at IS NOT NULL';
    ELSE  -- most cycle updates (a touch, a disposition, the flags) move no mark: both sets empty
        came := 'SELECT id FROM new_rows WHERE exception_at IS NOT NULL EXCEPT SELECT id FROM old_rows WHERE exception_at IS NOT NULL';
        gone := 'SELECT id FROM old_rows WHERE exception_at IS NOT NULL EXCEPT SELECT id FROM new_rows WHERE exception_at IS NOT NULL';
    END IF;
    IF gone IS NOT NULL THEN
        EXECUTE format('DELETE FROM reporting_exceptionenrolment x WHERE x.lead_cycle_id IN (%s)', gone);
    END IF;
    IF came IS NOT NULL THEN
        EXECUTE format('INSERT INTO reporting_exceptionenrolment (enrolment_id, lead_cycle_id, enrolled_at) '
                       'SELECT f.enrolment_id, f.lead_cycle_id, f.enrolled_at FROM reporting_enrolmentfact f '
                       'WHERE f.lead_cycle_id IN (%s) ON CONFLICT (enrolment_id) DO NOTHING', came);
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionenrolments_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_exceptionenrolment;
    INSERT INTO reporting_exceptionenrolment (enrolment_id, lead_cycle_id, enrolled_at)
    SELECT f.enrolment_id, f.lead_cycle_id, f.enrolled_at FROM reporting_enrolmentfact f
    JOIN people_leadcycle c ON c.id = f.lead_cycle_id WHERE c.exception_at IS NOT NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionenrolment_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_exceptionenrolments_rebuild();
    RETURN NULL;
END $fn$;
"""


def _triggers(table: str, name: str, function: str) -> list[str]:
    out = [f"CREATE TRIGGER reporting_exceptionenrolment_{name}_{event.lower()} AFTER {event} ON {table} "
           f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
           for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                               ("DELETE", "OLD TABLE AS old_rows"))]
    out.append(f"CREATE TRIGGER reporting_exceptionenrolment_{name}_truncate AFTER TRUNCATE ON {table} "
               "FOR EACH STATEMENT EXECUTE FUNCTION reporting_exceptionenrolment_truncated();")
    return out


TRIGGERS = "\n".join([*_triggers("reporting_enrolmentfact", "fact", "reporting_exceptionenrolment_fact_changed"),
                      *_triggers("people_leadcycle", "cycle", "reporting_exceptionenrolment_cycle_changed"),
                      "SELECT reporting_exceptionenrolments_rebuild();"])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_exceptionenrolment_{name}_{event} ON {table};"
     for table, name in (("reporting_enrolmentfact", "fact"), ("people_leadcycle", "cycle"))
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_exceptionenrolment_truncated();",
       "DROP FUNCTION IF EXISTS reporting_exceptionenrolments_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_exceptionenrolment_cycle_changed();",
       "DROP FUNCTION IF EXISTS reporting_exceptionenrolment_fact_changed();"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0035_mid_exception_enrolments"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
    ]
