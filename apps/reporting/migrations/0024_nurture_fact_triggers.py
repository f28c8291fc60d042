"""reporting.NurtureFact (the leads in nurture now) kept by statement-level triggers on lead
cycles and nurture entries: the facts of the contacts a statement touched are recomputed (a new
cycle of a nurtured contact takes it out of nurture; an entry recycled takes it out of the
program). reporting_programs_rebuild() is replaced to rebuild it too."""

from django.db import migrations

SOURCE = """
    SELECT c.id, c.contact_id, c.rep_id, c.lead_type, c.disposition_reason, c.dispositioned_at,
           e.state = 'waiting', e.recycle_due_at
    FROM people_leadcycle c
    LEFT JOIN campaigns_nurtureentry e ON e.cycle_id = c.id
    WHERE c.disposition = 'nurture' AND c.exception_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM people_leadcycle later WHERE later.contact_id = c.contact_id AND later.number > c.number)"""

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_nurturefact_refresh(contacts bigint[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_nurturefact WHERE contact_id = ANY(contacts);
    INSERT INTO reporting_nurturefact (cycle_id, contact_id, rep_id, lead_type, reason, dispositioned_at, in_program,
                                       recycle_due_at)
    """ + SOURCE + r""" AND c.contact_id = ANY(contacts);
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_nurture_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed text;
    contacts bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        changed := 'SELECT contact_id FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        changed := 'SELECT contact_id FROM old_rows';
    ELSE  -- hashed set differences over the columns the fact reads (the transition tables have no statistics)
        changed := 'SELECT contact_id FROM (SELECT id, contact_id, number, disposition, disposition_reason, exception_at, '
                   'rep_id, lead_type, dispositioned_at FROM new_rows EXCEPT SELECT id, contact_id, number, disposition, '
                   'disposition_reason, exception_at, rep_id, lead_type, dispositioned_at FROM old_rows) n UNION '
                   'SELECT contact_id FROM (SELECT id, contact_id, number, disposition, disposition_reason, exception_at, '
                   'rep_id, lead_type, dispositioned_at FROM old_rows EXCEPT SELECT id, contact_id, number, disposition, '
                   'disposition_reason, exception_at, rep_id, lead_type, dispositioned_at FROM new_rows) o';
    END IF;
    EXECUTE format('SELECT ARRAY(SELECT DISTINCT contact_id FROM (%s) z)', changed) INTO contacts;
    IF cardinality(contacts) > 0 THEN
        PERFORM reporting_nurturefact_refresh(contacts);
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_nurture_entry_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    rows text;
    contacts bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        rows := 'SELECT cycle_id FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        rows := 'SELECT cycle_id FROM old_rows';
    ELSE
        rows := 'SELECT cycle_id FROM (SELECT id, cycle_id, state, recycle_due_at FROM new_rows EXCEPT '
                'SELECT id, cycle_id, state, recycle_due_at FROM old_rows) n UNION '
                'SELECT cycle_id FROM (SELECT id, cycle_id, state, recycle_due_at FROM old_rows EXCEPT '
                'SELECT id, cycle_id, state, recycle_due_at FROM new_rows) o';
    END IF;
    EXECUTE format('SELECT ARRAY(SELECT DISTINCT c.contact_id FROM people_leadcycle c WHERE c.id IN (%s))', rows)
        INTO contacts;
    IF cardinality(contacts) > 0 THEN
        PERFORM reporting_nurturefact_refresh(contacts);
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_programs_nurture_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_nurturefact;
    INSERT INTO reporting_nurturefact (cycle_id, contact_id, rep_id, lead_type, reason, dispositioned_at, in_program,
                                       recycle_due_at)
    """ + SOURCE + r""";
    RETURN NULL;
END $fn$;
"""


def _rebuild(nurture: bool) -> str:
    extra = ""
    if nurture:
        extra = ("    DELETE FROM reporting_nurturefact;\n"
                 "    INSERT INTO reporting_nurturefact (cycle_id, contact_id, rep_id, lead_type, reason, dispositioned_at, "
                 "in_program, recycle_due_at)\n" + SOURCE + ";\n")
    return r"""
CREATE OR REPLACE FUNCTION reporting_programs_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_activityleadday;
    EXECUTE reporting_activitylead_sql(
        'SELECT 1 AS sign, id, occurred_at, rep_id, contact_id, automated FROM accounts_activity',
        'SELECT NULL::int AS sign, id, contact_id, assigned_at, lead_type, exception_at FROM people_leadcycle');
    DELETE FROM reporting_handlefact;
    PERFORM reporting_handlefact_refresh(ARRAY(SELECT id FROM people_leadcycle WHERE dispositioned_at IS NOT NULL));
""" + extra + r"""END $fn$;
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
               "FOR EACH STATEMENT EXECUTE FUNCTION reporting_programs_nurture_truncated();")
    return "\n".join(out)


TRIGGERS = "\n".join([_triggers("people_leadcycle", "nurture_cycle", "reporting_programs_nurture_cycle_changed"),
                      _triggers("campaigns_nurtureentry", "nurture_entry", "reporting_programs_nurture_entry_changed")])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_programs_{name}_{event} ON {table};"
     for table, name in (("people_leadcycle", "nurture_cycle"), ("campaigns_nurtureentry", "nurture_entry"))
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_programs_nurture_truncated();",
       "DROP FUNCTION IF EXISTS reporting_programs_nurture_entry_changed();",
       "DROP FUNCTION IF EXISTS reporting_programs_nurture_cycle_changed();",
       "DROP FUNCTION IF EXISTS reporting_nurturefact_refresh(bigint[]);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0023_nurture_facts"),
        ("campaigns", "0005_field_history_alarms"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, _rebuild(True), TRIGGERS, "SELECT reporting_programs_rebuild();"]),
                          "\n".join([DROP, _rebuild(False)])),
    ]
