"""The program pages' rollups (reporting.ActivityLeadDay, reporting.HandleFact) kept by
statement-level triggers on activities and lead cycles, like the other rollups (migration 0005).

ActivityLeadDay: +1 per activity as it is after the statement, −1 as it was before, attributed
to the contact's latest lead cycle assigned at or before the touch (set-based: a hash join on
the contact and DISTINCT ON the activity, no per-row lookup). When lead cycles change (a new
cycle, a re-dated one, a lead type or exception mark changed, a delete) the activities of the
contacts concerned are counted −1 against the cycles as they were and +1 against the cycles as
they are now.

HandleFact: the rows of the cycles a statement touched (or of the cycles whose contact's
activities it touched) are recomputed from the cycle and its touches.

Both are skipped while reporting.rebuilding is on (the rebuild recomputes them); their own
rebuild is reporting_programs_rebuild(), called by apps.reporting.rollups.rollups_rebuild().
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_activitylead_sql(acts text, cycles text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    -- acts: (sign, id, occurred_at, rep_id, contact_id, automated); cycles: (sign, id, contact_id,
    -- assigned_at, lead_type, exception_at), sign NULL = the same cycles for either sign. Run by
    -- EXECUTE in the trigger function itself (transition tables are visible there only).
    SELECT format($q$
    INSERT INTO reporting_activityleadday AS r (day, rep_id, inbound, activities)
    SELECT (y.occurred_at AT TIME ZONE 'UTC')::date, y.rep_id, coalesce(y.lead_type = 'inbound', false), sum(y.sign)
    FROM (SELECT DISTINCT ON (a.sign, a.id) a.sign, a.occurred_at, a.rep_id, c.lead_type, c.exception_at
          FROM (%s) a
          LEFT JOIN (%s) c ON c.contact_id = a.contact_id AND c.assigned_at <= a.occurred_at
                          AND (c.sign IS NULL OR c.sign = a.sign)
          WHERE NOT a.automated AND a.rep_id IS NOT NULL
          ORDER BY a.sign, a.id, c.assigned_at DESC, c.id DESC) y
    WHERE y.exception_at IS NULL
    GROUP BY 1, 2, 3 HAVING sum(y.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (day, rep_id, inbound) DO UPDATE SET activities = r.activities + EXCLUDED.activities
    $q$, acts, cycles)
$fn$;

CREATE OR REPLACE FUNCTION reporting_handlefact_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_handlefact WHERE cycle_id = ANY(ids);
    INSERT INTO reporting_handlefact (cycle_id, rep_id, lead_type, first_touch_at, dispositioned_at, touches)
    SELECT c.id, c.rep_id, c.lead_type, c.first_touch_at, c.dispositioned_at, t.touches
    FROM people_leadcycle c
    LEFT JOIN LATERAL (SELECT count(*) AS touches FROM accounts_activity a
                       WHERE a.contact_id = c.contact_id AND NOT a.automated
                         AND a.type = ANY(ARRAY['call', 'email', 'social', 'meeting'])
                         AND a.occurred_at >= c.assigned_at AND a.occurred_at <= c.dispositioned_at) t ON true
    WHERE c.id = ANY(ids) AND c.dispositioned_at IS NOT NULL AND c.exception_at IS NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    rows text;
    any_changed boolean;
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        rows := 'SELECT 1 AS sign, id, occurred_at, rep_id, contact_id, automated, type FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        rows := 'SELECT -1 AS sign, id, occurred_at, rep_id, contact_id, automated, type FROM old_rows';
    ELSE  -- only the rows whose counted columns changed, as they are and as they were (hashed set
          -- differences: the transition tables have no statistics, a join of them may loop)
        rows := 'SELECT 1 AS sign, * FROM (SELECT id, occurred_at, rep_id, contact_id, automated, type FROM new_rows '
                'EXCEPT SELECT id, occurred_at, rep_id, contact_id, automated, type FROM old_rows) n '
                'UNION ALL SELECT -1, * FROM (SELECT id, occurred_at, rep_id, contact_id, automated, type FROM old_rows '
                'EXCEPT SELECT id, occurred_at, rep_id, contact_id, automated, type FROM new_rows) o';
        EXECUTE format('SELECT EXISTS (%s)', rows) INTO any_changed;
        IF NOT any_changed THEN RETURN NULL; END IF;
    END IF;
    EXECUTE reporting_activitylead_sql(rows,
        format('SELECT NULL::int AS sign, id, contact_id, assigned_at, lead_type, exception_at FROM people_leadcycle '
               'WHERE contact_id IN (SELECT contact_id FROM (%s) z)', rows));
    -- the handle facts of the dispositioned cycles a counted touch (as it is or was) falls in
    EXECUTE format('SELECT reporting_handlefact_refresh(ARRAY(SELECT DISTINCT c.id FROM people_leadcycle c '
                   'JOIN (%s) z ON z.contact_id = c.contact_id AND z.occurred_at >= c.assigned_at '
                   'AND z.occurred_at <= c.dispositioned_at '
                   'WHERE NOT z.automated AND z.type = ANY(ARRAY[''call'', ''email'', ''social'', ''meeting''])))', rows);
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed text;
    contacts text;
    cycles text := 'SELECT %s AS sign, id, contact_id, assigned_at, lead_type, exception_at FROM %s';
    before text;
    ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        changed := 'SELECT id, contact_id FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        changed := 'SELECT id, contact_id FROM old_rows';
    ELSE  -- the cycles whose counted columns changed (the flag refreshes change none of them)
        changed := 'SELECT id, contact_id FROM (SELECT id, contact_id, assigned_at, lead_type, exception_at, rep_id, '
                   'first_touch_at, dispositioned_at FROM new_rows EXCEPT SELECT id, contact_id, assigned_at, lead_type, '
                   'exception_at, rep_id, first_touch_at, dispositioned_at FROM old_rows) n UNION ALL '
                   'SELECT id, contact_id FROM (SELECT id, contact_id, assigned_at, lead_type, exception_at, rep_id, '
                   'first_touch_at, dispositioned_at FROM old_rows EXCEPT SELECT id, contact_id, assigned_at, lead_type, '
                   'exception_at, rep_id, first_touch_at, dispositioned_at FROM new_rows) o';
    END IF;
    EXECUTE format('SELECT ARRAY(SELECT DISTINCT id FROM (%s) z)', changed) INTO ids;
    IF cardinality(ids) = 0 THEN RETURN NULL; END IF;
    contacts := format('contact_id IN (SELECT contact_id FROM (%s) z)', changed);
    -- the cycles of those contacts as they were before the statement
    before := format(cycles, '-1', 'people_leadcycle') || ' WHERE ' || contacts;
    IF TG_OP <> 'DELETE' THEN
        before := before || ' AND id NOT IN (SELECT id FROM new_rows)';
    END IF;
    IF TG_OP <> 'INSERT' THEN
        before := before || ' UNION ALL ' || format(cycles, '-1', 'old_rows') || ' WHERE ' || contacts;
    END IF;
    EXECUTE reporting_activitylead_sql(
        'SELECT s.sign, a.id, a.occurred_at, a.rep_id, a.contact_id, a.automated FROM accounts_activity a '
        'CROSS JOIN (VALUES (1), (-1)) s(sign) WHERE a.' || contacts,
        format(cycles, '1', 'people_leadcycle') || ' WHERE ' || contacts || ' UNION ALL ' || before);
    PERFORM reporting_handlefact_refresh(ids);
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_programs_rebuild();
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_activityleadday;
    EXECUTE reporting_activitylead_sql(
        'SELECT 1 AS sign, id, occurred_at, rep_id, contact_id, automated FROM accounts_activity',
        'SELECT NULL::int AS sign, id, contact_id, assigned_at, lead_type, exception_at FROM people_leadcycle');
    DELETE FROM reporting_handlefact;
    PERFORM reporting_handlefact_refresh(ARRAY(SELECT id FROM people_leadcycle WHERE dispositioned_at IS NOT NULL));
END $fn$;
"""


def _triggers(table: str, name: str, function: str) -> str:
    out = []
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows")):
        trigger = f"reporting_programs_{name}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table};\n"
                   f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {refs} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();")
    out.append(f"DROP TRIGGER IF EXISTS reporting_programs_{name}_truncate ON {table};\n"
               f"CREATE TRIGGER reporting_programs_{name}_truncate AFTER TRUNCATE ON {table} "
               "FOR EACH STATEMENT EXECUTE FUNCTION reporting_programs_truncated();")
    return "\n".join(out)


TRIGGERS = "\n".join([_triggers("accounts_activity", "activity", "reporting_programs_activity_changed"),
                      _triggers("people_leadcycle", "cycle", "reporting_programs_cycle_changed")])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_programs_{name}_{event} ON {table};"
     for table, name in (("accounts_activity", "activity"), ("people_leadcycle", "cycle"))
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_programs_truncated();", "DROP FUNCTION IF EXISTS reporting_programs_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_programs_cycle_changed();",
       "DROP FUNCTION IF EXISTS reporting_programs_activity_changed();",
       "DROP FUNCTION IF EXISTS reporting_handlefact_refresh(bigint[]);",
       "DROP FUNCTION IF EXISTS reporting_activitylead_sql(text, text);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0021_program_rollups"),
        ("leads", "0003_report_flags"),
        ("accounts", "0008_alter_activity_type"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_programs_rebuild();"]), DROP),
    ]
