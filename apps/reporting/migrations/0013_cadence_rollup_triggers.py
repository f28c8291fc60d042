"""The cadence rollups (reporting.EnrolmentFact, EnrolmentDay, EnrolmentStepDay) kept by
statement-level triggers, like the other rollups (migration 0005).

An enrolment's numbers depend on it and on its steps, so a statement on either table recomputes
the fact row of each enrolment it touched (`reporting_enrolmentfact_refresh`: one grouped query
over those enrolments and their steps, a row removed when its enrolment is gone — also through a
contact's cascade); a trigger on the fact rows then adds +1 per row as it is after and −1 as it
was before to the per-day rollups of enrolments and of steps (one row per position, from the
fact's arrays). Enrolments of lead cycles marked an exception are counted here and subtracted by
the page. The rebuild and the TRUNCATE handler are replaced to cover them.
"""

from django.db import migrations

DONE = "ARRAY['positive', 'negative', 'no_response']"
FACTS = """
    SELECT e.id, e.enrolled_at, e.rep_id, e.cadence_id, e.lead_cycle_id, e.state,
           count(s.id) FILTER (WHERE s.outcome = ANY(""" + DONE + """)),
           coalesce(array_agg(s.position ORDER BY s.position) FILTER (WHERE s.id IS NOT NULL), '{}'),
           coalesce(array_agg(s.outcome ORDER BY s.position) FILTER (WHERE s.id IS NOT NULL), '{}')
    FROM cadences_enrolment e LEFT JOIN cadences_enrolmentstep s ON s.enrolment_id = e.id
    WHERE {where} GROUP BY e.id ORDER BY e.id"""
FACT_COLUMNS = "enrolment_id, enrolled_at, rep_id, cadence_id, lead_cycle_id, state, done, positions, outcomes"

CADENCE_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_enrolmentfact_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_enrolmentfact f WHERE f.enrolment_id = ANY(ids)
       AND NOT EXISTS (SELECT 1 FROM cadences_enrolment e WHERE e.id = f.enrolment_id);
    INSERT INTO reporting_enrolmentfact AS f (""" + FACT_COLUMNS + """)
    """ + FACTS.replace("{where}", "e.id = ANY(ids)") + """
    ON CONFLICT (enrolment_id) DO UPDATE SET
        enrolled_at = EXCLUDED.enrolled_at, rep_id = EXCLUDED.rep_id, cadence_id = EXCLUDED.cadence_id,
        lead_cycle_id = EXCLUDED.lead_cycle_id, state = EXCLUDED.state, done = EXCLUDED.done,
        positions = EXCLUDED.positions, outcomes = EXCLUDED.outcomes
    WHERE (f.enrolled_at, f.rep_id, f.cadence_id, f.lead_cycle_id, f.state, f.done, f.positions, f.outcomes)
          IS DISTINCT FROM (EXCLUDED.enrolled_at, EXCLUDED.rep_id, EXCLUDED.cadence_id, EXCLUDED.lead_cycle_id,
                            EXCLUDED.state, EXCLUDED.done, EXCLUDED.positions, EXCLUDED.outcomes);
END $fn$;

CREATE OR REPLACE FUNCTION reporting_enrolment_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                     WHERE (n.enrolled_at, n.rep_id, n.cadence_id, n.lead_cycle_id, n.state)
                           IS DISTINCT FROM (o.enrolled_at, o.rep_id, o.cadence_id, o.lead_cycle_id, o.state));
    ELSE
        ids := ARRAY(SELECT id FROM old_rows);
    END IF;
    IF cardinality(ids) > 0 THEN PERFORM reporting_enrolmentfact_refresh(ids); END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_enrolmentstep_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT enrolment_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(SELECT eid FROM (SELECT n.enrolment_id AS a, o.enrolment_id AS b FROM new_rows n JOIN old_rows o ON o.id = n.id
                                      WHERE (n.enrolment_id, n.position, n.outcome)
                                            IS DISTINCT FROM (o.enrolment_id, o.position, o.outcome)) d,
                     LATERAL (VALUES (d.a), (d.b)) v(eid) GROUP BY eid);
    ELSE
        ids := ARRAY(SELECT DISTINCT enrolment_id FROM old_rows);
    END IF;
    IF cardinality(ids) > 0 THEN PERFORM reporting_enrolmentfact_refresh(ids); END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_enrolmentday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_enrolmentday AS r (day, rep_id, cadence_id, state, done, enrolments)
    SELECT (x.enrolled_at AT TIME ZONE 'UTC')::date, x.rep_id, x.cadence_id, x.state, x.done, sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, cadence_id, state, done) DO UPDATE SET enrolments = r.enrolments + EXCLUDED.enrolments
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_enrolmentstepday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_enrolmentstepday AS r (day, rep_id, cadence_id, position, outcome, state, steps)
    SELECT (x.enrolled_at AT TIME ZONE 'UTC')::date, x.rep_id, x.cadence_id, p.position, p.outcome, x.state, sum(x.sign)
    FROM (%s) x CROSS JOIN LATERAL unnest(x.positions, x.outcomes) AS p(position, outcome)
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (day, rep_id, cadence_id, position, outcome, state) DO UPDATE SET steps = r.steps + EXCLUDED.steps
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_enrolmentfact_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE src text;
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        src := 'SELECT 1 AS sign, * FROM new_rows';
    ELSIF TG_OP = 'UPDATE' THEN
        src := 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows';
    ELSE
        src := 'SELECT -1 AS sign, * FROM old_rows';
    END IF;
    EXECUTE reporting_enrolmentday_sql(src);
    EXECUTE reporting_enrolmentstepday_sql(src);
    RETURN NULL;
END $fn$;

-- From scratch (the caller sets reporting.rebuilding): the facts, then both rollups from them.
CREATE OR REPLACE FUNCTION reporting_cadence_rollups_fill() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_enrolmentfact;
    DELETE FROM reporting_enrolmentday;
    DELETE FROM reporting_enrolmentstepday;
    INSERT INTO reporting_enrolmentfact (""" + FACT_COLUMNS + """)
    """ + FACTS.replace("{where}", "TRUE") + """;
    EXECUTE reporting_enrolmentday_sql('SELECT 1 AS sign, * FROM reporting_enrolmentfact');
    EXECUTE reporting_enrolmentstepday_sql('SELECT 1 AS sign, * FROM reporting_enrolmentfact');
END $fn$;
"""


def _on(table: str, function: str, name: str, *, truncate: bool) -> str:
    out = []
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows")):
        trigger = f"{name}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table};\n"
                   f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {refs} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();")
    if truncate:
        out.append(f"DROP TRIGGER IF EXISTS {name}_truncate ON {table};\n"
                   f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION reporting_truncated();")
    return "\n".join(out)


TRIGGERS = "\n".join([
    _on("cadences_enrolment", "reporting_enrolment_changed", "reporting_cadences_enrolment", truncate=True),
    _on("cadences_enrolmentstep", "reporting_enrolmentstep_changed", "reporting_cadences_enrolmentstep", truncate=True),
    _on("reporting_enrolmentfact", "reporting_enrolmentfact_changed", "reporting_enrolmentfact", truncate=False),
])


def _truncated(cadences: bool) -> str:
    branch = ("ELSIF TG_TABLE_NAME = 'accounts_account' THEN\n        DELETE FROM reporting_bookcount;\n    "
              "ELSIF TG_TABLE_NAME = 'meetings_meeting' THEN\n        DELETE FROM reporting_meetingday;\n    ")
    if cadences:
        branch += ("ELSIF TG_TABLE_NAME IN ('cadences_enrolment', 'cadences_enrolmentstep') THEN\n"
                   "        PERFORM reporting_cadence_rollups_fill();\n    ")
    return r"""
CREATE OR REPLACE FUNCTION reporting_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM set_config('reporting.rebuilding', 'on', true);
    IF TG_TABLE_NAME = 'people_leadcycle' THEN
        DELETE FROM reporting_cycleday;
    ELSIF TG_TABLE_NAME = 'accounts_activity' THEN
        DELETE FROM reporting_activityhour; DELETE FROM reporting_firsttouch; DELETE FROM reporting_researchday;
    ELSIF TG_TABLE_NAME = 'reporting_firsttouch' THEN
        DELETE FROM reporting_researchday;
    """ + branch + r"""END IF;
    PERFORM set_config('reporting.rebuilding', 'off', true);
    -- flags fed by the truncated table: recomputed (through the cycle trigger, so the rollup follows)
    IF TG_TABLE_NAME = 'meetings_meeting' THEN
        PERFORM reporting_cycle_flags_refresh(ARRAY(SELECT id FROM people_leadcycle WHERE is_sql OR is_opp));
    ELSIF TG_TABLE_NAME = 'people_slabreach' THEN
        PERFORM reporting_cycle_flags_refresh(ARRAY(SELECT id FROM people_leadcycle WHERE sla_breached));
    ELSIF TG_TABLE_NAME = 'campaigns_campaigninteraction' THEN
        PERFORM reporting_cycle_flags_refresh(ARRAY(SELECT id FROM people_leadcycle WHERE campaign_record_id IS NOT NULL));
    END IF;
    RETURN NULL;
END $fn$;
"""


def _rebuild(cadences: bool) -> str:
    book = ("    DELETE FROM reporting_bookcount;\n"
            "    EXECUTE reporting_bookcount_sql('SELECT 1 AS sign, * FROM accounts_account');\n"
            "    DELETE FROM reporting_meetingday;\n"
            "    EXECUTE reporting_meetingday_sql('SELECT 1 AS sign, * FROM meetings_meeting');\n")
    if cadences:
        book += "    PERFORM reporting_cadence_rollups_fill();\n"
    return r"""
CREATE OR REPLACE FUNCTION reporting_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM set_config('reporting.rebuilding', 'on', true);
    -- the flags, set-based (hash-joined aggregates of every meeting, breach and campaign link)
    UPDATE people_leadcycle c
    SET is_sql = f.is_sql, is_opp = f.is_opp, sla_breached = f.sla_breached, campaign_record_id = f.campaign_id
    FROM (SELECT c2.id, q.cycle_id IS NOT NULL AS is_sql, coalesce(q.opp, false) AS is_opp,
                 b.cycle_id IS NOT NULL AS sla_breached, ci.campaign_id
          FROM people_leadcycle c2
          LEFT JOIN (SELECT m.lead_cycle_id AS cycle_id, bool_or(o.pipeline_at IS NOT NULL) AS opp
                     FROM meetings_meeting m LEFT JOIN meetings_opportunity o ON o.id = m.opportunity_id
                     WHERE m.status = 'completed_qualified' AND m.lead_cycle_id IS NOT NULL
                     GROUP BY m.lead_cycle_id) q ON q.cycle_id = c2.id
          LEFT JOIN (SELECT DISTINCT cycle_id FROM people_slabreach WHERE kind = 'maximum') b ON b.cycle_id = c2.id
          LEFT JOIN campaigns_campaigninteraction ci ON ci.lead_cycle_id = c2.id) f
    WHERE c.id = f.id
      AND (c.is_sql, c.is_opp, c.sla_breached, c.campaign_record_id)
          IS DISTINCT FROM (f.is_sql, f.is_opp, f.sla_breached, f.campaign_id);
    DELETE FROM reporting_cycleday;
    DELETE FROM reporting_activityhour;
    DELETE FROM reporting_firsttouch;
    DELETE FROM reporting_researchday;
    EXECUTE reporting_cycleday_sql('SELECT 1 AS sign, * FROM people_leadcycle');
    EXECUTE reporting_activityhour_sql('SELECT 1 AS sign, * FROM accounts_activity');
    EXECUTE reporting_firsttouch_sql('SELECT * FROM accounts_activity');
    EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM reporting_firsttouch');
""" + book + r"""    PERFORM set_config('reporting.rebuilding', 'off', true);
END $fn$;
"""


DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS {name}_{event} ON {table};"
     for table, name in (("cadences_enrolment", "reporting_cadences_enrolment"),
                         ("cadences_enrolmentstep", "reporting_cadences_enrolmentstep"),
                         ("reporting_enrolmentfact", "reporting_enrolmentfact"))
     for event in ("insert", "update", "delete", "truncate")]
    + [f"DROP FUNCTION IF EXISTS {f};" for f in (
        "reporting_enrolmentfact_changed()", "reporting_enrolmentstepday_sql(text)", "reporting_enrolmentday_sql(text)",
        "reporting_enrolmentstep_changed()", "reporting_enrolment_changed()", "reporting_enrolmentfact_refresh(bigint[])")])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0012_cadence_rollups"),
        ("cadences", "0005_follow_up_tasks"),
    ]

    operations = [
        migrations.RunSQL(
            "\n".join([CADENCE_FUNCTIONS, _truncated(True), _rebuild(True), TRIGGERS,
                       "SELECT set_config('reporting.rebuilding', 'on', true);",
                       "SELECT reporting_cadence_rollups_fill();",
                       "SELECT set_config('reporting.rebuilding', 'off', true);"]),
            "\n".join([DROP, _truncated(False), _rebuild(False), "DROP FUNCTION IF EXISTS reporting_cadence_rollups_fill();"]),
        ),
    ]
