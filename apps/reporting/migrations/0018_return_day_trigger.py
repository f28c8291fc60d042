"""The returns rollup (reporting.ReturnDay) kept by statement-level triggers on return requests,
like the other rollups (migration 0005): +1 per row as it is after a statement, −1 as it was
before, per (UTC day filed, rep, reason, status, outcome). The rebuild and the TRUNCATE handler
are replaced to cover it; a time index keeps the raw ends of a window a day's rows.
"""

from django.db import migrations

RETURN_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_returnday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_returnday AS r (day, rep_id, reason, status, outcome, returns)
    SELECT (x.created_at AT TIME ZONE 'UTC')::date, x.rep_id, x.reason, x.status, x.outcome, sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, reason, status, outcome) DO UPDATE SET returns = r.returns + EXCLUDED.returns
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_return_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_returnday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_returnday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_returnday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_routing_returnrequest_{event.lower()} ON routing_returnrequest;\n"
    f"CREATE TRIGGER reporting_routing_returnrequest_{event.lower()} AFTER {event} ON routing_returnrequest "
    f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION reporting_return_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
) + """
DROP TRIGGER IF EXISTS reporting_routing_returnrequest_truncate ON routing_returnrequest;
CREATE TRIGGER reporting_routing_returnrequest_truncate AFTER TRUNCATE ON routing_returnrequest
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_truncated();
CREATE INDEX IF NOT EXISTS reporting_return_created ON routing_returnrequest (created_at);
"""


def _truncated(returns: bool) -> str:
    branch = ("ELSIF TG_TABLE_NAME = 'accounts_account' THEN\n        DELETE FROM reporting_bookcount;\n    "
              "ELSIF TG_TABLE_NAME = 'meetings_meeting' THEN\n        DELETE FROM reporting_meetingday;\n    "
              "ELSIF TG_TABLE_NAME IN ('cadences_enrolment', 'cadences_enrolmentstep') THEN\n"
              "        PERFORM reporting_cadence_rollups_fill();\n    ")
    branch += "ELSIF TG_TABLE_NAME = 'meetings_opportunity' THEN\n        DELETE FROM reporting_opportunityday;\n    "
    if returns:
        branch += "ELSIF TG_TABLE_NAME = 'routing_returnrequest' THEN\n        DELETE FROM reporting_returnday;\n    "
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


def _rebuild(returns: bool) -> str:
    book = ("    DELETE FROM reporting_bookcount;\n"
            "    EXECUTE reporting_bookcount_sql('SELECT 1 AS sign, * FROM accounts_account');\n"
            "    DELETE FROM reporting_meetingday;\n"
            "    EXECUTE reporting_meetingday_sql('SELECT 1 AS sign, * FROM meetings_meeting');\n")
    book += "    PERFORM reporting_cadence_rollups_fill();\n"
    book += ("    DELETE FROM reporting_opportunityday;\n"
             "    EXECUTE reporting_opportunityday_sql('SELECT 1 AS sign, * FROM meetings_opportunity');\n")
    if returns:
        book += ("    DELETE FROM reporting_returnday;\n"
                 "    EXECUTE reporting_returnday_sql('SELECT 1 AS sign, * FROM routing_returnrequest');\n")
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


DROP = """
DROP INDEX IF EXISTS reporting_return_created;
DROP TRIGGER IF EXISTS reporting_routing_returnrequest_insert ON routing_returnrequest;
DROP TRIGGER IF EXISTS reporting_routing_returnrequest_update ON routing_returnrequest;
DROP TRIGGER IF EXISTS reporting_routing_returnrequest_delete ON routing_returnrequest;
DROP TRIGGER IF EXISTS reporting_routing_returnrequest_truncate ON routing_returnrequest;
DROP FUNCTION IF EXISTS reporting_return_changed();
DROP FUNCTION IF EXISTS reporting_returnday_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0017_return_days"),
        ("routing", "0008_merge_fair_books_and_lead_work"),
    ]

    operations = [
        migrations.RunSQL(
            "\n".join([RETURN_FUNCTIONS, _truncated(True), _rebuild(True), TRIGGERS,
                       "DELETE FROM reporting_returnday;",
                       "DO $$ BEGIN EXECUTE reporting_returnday_sql("
                       "'SELECT 1 AS sign, * FROM routing_returnrequest'); END $$;"]),
            "\n".join([_truncated(False), _rebuild(False), DROP]),
        ),
    ]
