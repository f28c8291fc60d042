"""The meetings rollup (reporting.MeetingDay) kept by statement-level triggers on meetings, like
the other rollups (migration 0005): +1 per row as it is after the statement, −1 as it was
before, per (UTC day of the start, SDR, AE, status, late disposition), in one grouped upsert.
Meetings of lead cycles marked an exception are counted here and subtracted by the page (a
cycle's exception mark changes no meeting row). The rebuild and the TRUNCATE handler are
replaced to cover it.
"""

from django.db import migrations

MEETING_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_meetingday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_meetingday AS r (day, sdr_id, ae_id, status, late, meetings)
    SELECT (x.scheduled_at AT TIME ZONE 'UTC')::date, x.sdr_id, x.ae_id, x.status, x.disposition_late, sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, sdr_id, ae_id, status, late) DO UPDATE SET meetings = r.meetings + EXCLUDED.meetings
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_meeting_day_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_meetingday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_meetingday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_meetingday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_meetings_meeting_day_{event.lower()} ON meetings_meeting;\n"
    f"CREATE TRIGGER reporting_meetings_meeting_day_{event.lower()} AFTER {event} ON meetings_meeting REFERENCING {refs} "
    "FOR EACH STATEMENT EXECUTE FUNCTION reporting_meeting_day_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
)


def _truncated(meetings: bool) -> str:
    branch = "ELSIF TG_TABLE_NAME = 'accounts_account' THEN\n        DELETE FROM reporting_bookcount;\n    "
    if meetings:
        branch += "ELSIF TG_TABLE_NAME = 'meetings_meeting' THEN\n        DELETE FROM reporting_meetingday;\n    "
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


def _rebuild(meetings: bool) -> str:
    book = ("    DELETE FROM reporting_bookcount;\n"
            "    EXECUTE reporting_bookcount_sql('SELECT 1 AS sign, * FROM accounts_account');\n")
    if meetings:
        book += ("    DELETE FROM reporting_meetingday;\n"
                 "    EXECUTE reporting_meetingday_sql('SELECT 1 AS sign, * FROM meetings_meeting');\n")
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
DROP TRIGGER IF EXISTS reporting_meetings_meeting_day_insert ON meetings_meeting;
DROP TRIGGER IF EXISTS reporting_meetings_meeting_day_update ON meetings_meeting;
DROP TRIGGER IF EXISTS reporting_meetings_meeting_day_delete ON meetings_meeting;
DROP FUNCTION IF EXISTS reporting_meeting_day_changed();
DROP FUNCTION IF EXISTS reporting_meetingday_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0010_meeting_days"),
        ("meetings", "0003_move_lead_models_from_people"),
    ]

    operations = [
        migrations.RunSQL(
            "\n".join([MEETING_FUNCTIONS, _truncated(True), _rebuild(True), TRIGGERS,
                       "DELETE FROM reporting_meetingday;",
                       "INSERT INTO reporting_meetingday (day, sdr_id, ae_id, status, late, meetings) "
                       "SELECT (scheduled_at AT TIME ZONE 'UTC')::date, sdr_id, ae_id, status, disposition_late, count(*) "
                       "FROM meetings_meeting GROUP BY 1, 2, 3, 4, 5;"]),
            "\n".join([DROP, _truncated(False), _rebuild(False)]),
        ),
    ]
