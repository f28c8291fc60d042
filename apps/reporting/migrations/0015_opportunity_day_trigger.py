"""The opportunities rollup (reporting.OpportunityDay) kept by statement-level triggers on
opportunities, like the other rollups (migration 0005): each SDR-sourced opportunity counts once
on its creation day with its stage (+1 as it is after a statement, −1 as it was before) and once
on the day it first reached the pipeline stage; amounts are summed alongside. The stage's
outcome (won, lost, open) is read through the stage at request time, so re-marking a stage
needs no rollup change. The rebuild and the TRUNCATE handler are replaced to cover it.
"""

from django.db import migrations

OPPORTUNITY_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_opportunityday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_opportunityday AS r (kind, day, sdr_id, stage_id, opportunities, amount)
    SELECT k.kind, (k.at AT TIME ZONE 'UTC')::date, x.sourcing_sdr_id, k.stage_id, sum(x.sign),
           coalesce(sum(x.sign * x.amount), 0)
    FROM (%s) x
    CROSS JOIN LATERAL (VALUES ('created', x.created_at, x.stage_id), ('pipeline', x.pipeline_at, NULL::bigint))
        AS k(kind, at, stage_id)
    WHERE x.sourcing_sdr_id IS NOT NULL AND k.at IS NOT NULL
    GROUP BY 1, 2, 3, 4
    HAVING ROW(sum(x.sign), coalesce(sum(x.sign * x.amount), 0)) <> ROW(0, 0)
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (kind, day, sdr_id, stage_id) DO UPDATE SET
        opportunities = r.opportunities + EXCLUDED.opportunities, amount = r.amount + EXCLUDED.amount
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_opportunity_day_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_opportunityday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_opportunityday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_opportunityday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_meetings_opportunity_day_{event.lower()} ON meetings_opportunity;\n"
    f"CREATE TRIGGER reporting_meetings_opportunity_day_{event.lower()} AFTER {event} ON meetings_opportunity "
    f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION reporting_opportunity_day_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
)
# TRUNCATE: migration 0005 already sends meetings_opportunity's to reporting_truncated.


def _truncated(opportunities: bool) -> str:
    branch = ("ELSIF TG_TABLE_NAME = 'accounts_account' THEN\n        DELETE FROM reporting_bookcount;\n    "
              "ELSIF TG_TABLE_NAME = 'meetings_meeting' THEN\n        DELETE FROM reporting_meetingday;\n    "
              "ELSIF TG_TABLE_NAME IN ('cadences_enrolment', 'cadences_enrolmentstep') THEN\n"
              "        PERFORM reporting_cadence_rollups_fill();\n    ")
    if opportunities:
        branch += "ELSIF TG_TABLE_NAME = 'meetings_opportunity' THEN\n        DELETE FROM reporting_opportunityday;\n    "
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


def _rebuild(opportunities: bool) -> str:
    book = ("    DELETE FROM reporting_bookcount;\n"
            "    EXECUTE reporting_bookcount_sql('SELECT 1 AS sign, * FROM accounts_account');\n"
            "    DELETE FROM reporting_meetingday;\n"
            "    EXECUTE reporting_meetingday_sql('SELECT 1 AS sign, * FROM meetings_meeting');\n")
    book += "    PERFORM reporting_cadence_rollups_fill();\n"
    if opportunities:
        book += ("    DELETE FROM reporting_opportunityday;\n"
                 "    EXECUTE reporting_opportunityday_sql('SELECT 1 AS sign, * FROM meetings_opportunity');\n")
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
DROP TRIGGER IF EXISTS reporting_meetings_opportunity_day_insert ON meetings_opportunity;
DROP TRIGGER IF EXISTS reporting_meetings_opportunity_day_update ON meetings_opportunity;
DROP TRIGGER IF EXISTS reporting_meetings_opportunity_day_delete ON meetings_opportunity;
DROP FUNCTION IF EXISTS reporting_opportunity_day_changed();
DROP FUNCTION IF EXISTS reporting_opportunityday_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0014_opportunity_days"),
    ]

    operations = [
        migrations.RunSQL(
            "\n".join([OPPORTUNITY_FUNCTIONS, _truncated(True), _rebuild(True), TRIGGERS,
                       "DELETE FROM reporting_opportunityday;",
                       "DO $$ BEGIN EXECUTE reporting_opportunityday_sql("
                       "'SELECT 1 AS sign, * FROM meetings_opportunity'); END $$;"]),
            "\n".join([_truncated(False), _rebuild(False), DROP]),
        ),
    ]
