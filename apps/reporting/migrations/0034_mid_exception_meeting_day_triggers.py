"""reporting.ExceptionMeetingDay kept by statement triggers on meetings and on lead cycles: a
meeting statement counts its rows (+1 as they are after, −1 as they were before) whose lead cycle
is marked an exception now; a lead cycle statement whose rows became exceptions (or were
inserted as ones) counts +1 for each of their meetings, and −1 for those that stopped being
exceptions (or were deleted as ones). Meetings and cycles are never changed by the same
statement, so each side reads the other as it is. A TRUNCATE of either rebuilds. Filled here.

reporting_exceptionmeetingdays_rebuild() recomputes it (apps.reporting.sales_reads.REBUILD)."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_exceptionmeetingday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    -- src: (sign, scheduled_at, sdr_id, ae_id, status, disposition_late) of exception meetings
    SELECT format($q$
    INSERT INTO reporting_exceptionmeetingday AS r (day, sdr_id, ae_id, status, late, meetings)
    SELECT (x.scheduled_at AT TIME ZONE 'UTC')::date, x.sdr_id, x.ae_id, x.status, x.disposition_late, sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, sdr_id, ae_id, status, late) DO UPDATE SET meetings = r.meetings + EXCLUDED.meetings
    $q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionmeeting_meeting_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := 'id, scheduled_at, sdr_id, ae_id, status, disposition_late, lead_cycle_id';
    rows text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        rows := format('SELECT 1 AS sign, %s FROM new_rows', cols);
    ELSIF TG_OP = 'DELETE' THEN
        rows := format('SELECT -1 AS sign, %s FROM old_rows', cols);
    ELSE  -- only the rows whose counted columns changed (hashed set differences)
        rows := format('SELECT 1 AS sign, * FROM (SELECT %1$s FROM new_rows EXCEPT SELECT %1$s FROM old_rows) n '
                       'UNION ALL SELECT -1, * FROM (SELECT %1$s FROM old_rows EXCEPT SELECT %1$s FROM new_rows) o', cols);
    END IF;
    EXECUTE reporting_exceptionmeetingday_sql(format(
        'SELECT m.sign, m.scheduled_at, m.sdr_id, m.ae_id, m.status, m.disposition_late FROM (%s) m '
        'JOIN people_leadcycle c ON c.id = m.lead_cycle_id WHERE c.exception_at IS NOT NULL', rows));
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionmeeting_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed text;
    any_changed boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        changed := 'SELECT 1 AS sign, id FROM new_rows WHERE exception_at IS NOT NULL';
    ELSIF TG_OP = 'DELETE' THEN
        changed := 'SELECT -1 AS sign, id FROM old_rows WHERE exception_at IS NOT NULL';
    ELSE  -- most cycle updates (a touch, a disposition, the flags) move no mark: nothing to do
        changed := 'SELECT 1 AS sign, id FROM (SELECT id FROM new_rows WHERE exception_at IS NOT NULL '
                   'EXCEPT SELECT id FROM old_rows WHERE exception_at IS NOT NULL) n UNION ALL '
                   'SELECT -1, id FROM (SELECT id FROM old_rows WHERE exception_at IS NOT NULL '
                   'EXCEPT SELECT id FROM new_rows WHERE exception_at IS NOT NULL) o';
    END IF;
    EXECUTE format('SELECT EXISTS (%s)', changed) INTO any_changed;
    IF NOT any_changed THEN RETURN NULL; END IF;
    EXECUTE reporting_exceptionmeetingday_sql(format(
        'SELECT x.sign, m.scheduled_at, m.sdr_id, m.ae_id, m.status, m.disposition_late FROM (%s) x '
        'JOIN meetings_meeting m ON m.lead_cycle_id = x.id', changed));
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionmeetingdays_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_exceptionmeetingday;
    EXECUTE reporting_exceptionmeetingday_sql(
        'SELECT 1 AS sign, m.scheduled_at, m.sdr_id, m.ae_id, m.status, m.disposition_late FROM meetings_meeting m '
        'JOIN people_leadcycle c ON c.id = m.lead_cycle_id WHERE c.exception_at IS NOT NULL');
END $fn$;

CREATE OR REPLACE FUNCTION reporting_exceptionmeeting_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_exceptionmeetingdays_rebuild();
    RETURN NULL;
END $fn$;
"""


def _triggers(table: str, name: str, function: str) -> list[str]:
    out = [f"CREATE TRIGGER reporting_exceptionmeeting_{name}_{event.lower()} AFTER {event} ON {table} "
           f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
           for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                               ("DELETE", "OLD TABLE AS old_rows"))]
    out.append(f"CREATE TRIGGER reporting_exceptionmeeting_{name}_truncate AFTER TRUNCATE ON {table} "
               "FOR EACH STATEMENT EXECUTE FUNCTION reporting_exceptionmeeting_truncated();")
    return out


TRIGGERS = "\n".join([*_triggers("meetings_meeting", "meeting", "reporting_exceptionmeeting_meeting_changed"),
                      *_triggers("people_leadcycle", "cycle", "reporting_exceptionmeeting_cycle_changed"),
                      "SELECT reporting_exceptionmeetingdays_rebuild();"])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_exceptionmeeting_{name}_{event} ON {table};"
     for table, name in (("meetings_meeting", "meeting"), ("people_leadcycle", "cycle"))
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_exceptionmeeting_truncated();",
       "DROP FUNCTION IF EXISTS reporting_exceptionmeetingdays_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_exceptionmeeting_cycle_changed();",
       "DROP FUNCTION IF EXISTS reporting_exceptionmeeting_meeting_changed();",
       "DROP FUNCTION IF EXISTS reporting_exceptionmeetingday_sql(text);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0033_mid_exception_meeting_days"),
        ("meetings", "0003_move_lead_models_from_people"),
        ("leads", "0007_merge_fair_books_and_lead_work"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
    ]
