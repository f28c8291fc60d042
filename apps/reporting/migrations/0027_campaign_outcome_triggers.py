"""reporting.CampaignOutcome / CampaignOutcomeDay (the campaign page's won deals, cadences
completed or abandoned early and meetings held, per lead cycle and per UTC day, rep, source,
lead type and campaign record) kept by statement-level triggers on lead cycles, meetings,
opportunities, opportunity stages, enrolments and enrolment steps: the outcomes of the cycles
a statement touched (directly, or through their meetings' opportunities and stages, or their
enrolments' steps) are recomputed, and the day rows take the difference. Exceptions are in no
row. reporting_campaigns_rebuild() recomputes both from history."""

from django.db import migrations

# One cycle's outcomes ({where} narrows the cycles); the values are the model choices'
# (apps.campaigns.report_selectors: ENROLMENT_COMPLETED, STEP_DONE, EARLY_ABANDON_STEPS = 3, MEETINGS_HELD).
SOURCE = """
    SELECT * FROM (
        SELECT c.id AS cycle_id, c.assigned_at, (c.assigned_at AT TIME ZONE 'UTC')::date AS day, c.rep_id, c.source,
               c.lead_type, c.campaign_record_id AS campaign_id,
               EXISTS (SELECT 1 FROM meetings_meeting m
                       JOIN meetings_opportunity o ON o.id = m.opportunity_id AND o.pipeline_at IS NOT NULL
                       JOIN meetings_opportunitystage st ON st.id = o.stage_id AND st.outcome = 'won'
                       WHERE m.lead_cycle_id = c.id AND m.status = 'completed_qualified')::int AS won,
               EXISTS (SELECT 1 FROM cadences_enrolment e
                       WHERE e.lead_cycle_id = c.id AND e.state IN ('positive', 'negative', 'completed'))::int AS completed,
               EXISTS (SELECT 1 FROM cadences_enrolment e
                       WHERE e.lead_cycle_id = c.id AND e.state = 'dispositioned'
                         AND (SELECT count(*) FROM cadences_enrolmentstep s
                              WHERE s.enrolment_id = e.id AND s.outcome IN ('positive', 'negative', 'no_response')) <= 3
                      )::int AS early,
               (SELECT count(*) FROM meetings_meeting m
                WHERE m.lead_cycle_id = c.id AND m.status IN ('completed_qualified', 'completed_unqualified'))::int AS held
        FROM people_leadcycle c
        WHERE c.exception_at IS NULL AND {where}) s
    WHERE won + completed + early + held > 0"""
COLUMNS = "cycle_id, assigned_at, day, rep_id, source, lead_type, campaign_id, won, completed, early, held"
KEY = "day, rep_id, source, lead_type, campaign_id"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_campaignoutcome_refresh(cycles bigint[]) RETURNS void LANGUAGE sql AS $fn$
    WITH gone AS (
        DELETE FROM reporting_campaignoutcome WHERE cycle_id = ANY(cycles)
        RETURNING (assigned_at AT TIME ZONE 'UTC')::date AS day, rep_id, source, lead_type, campaign_id,
                  -won AS won, -completed AS completed, -early AS early, -held AS held),
    fresh AS (
        INSERT INTO reporting_campaignoutcome (cycle_id, assigned_at, rep_id, source, lead_type, campaign_id, won,
                                               completed, early, held)
        SELECT cycle_id, assigned_at, rep_id, source, lead_type, campaign_id, won, completed, early, held
        FROM (""" + SOURCE.format(where="c.id = ANY(cycles)") + r""") f
        RETURNING (assigned_at AT TIME ZONE 'UTC')::date AS day, rep_id, source, lead_type, campaign_id,
                  won, completed, early, held),
    delta AS (
        SELECT """ + KEY + r""", sum(won) AS won, sum(completed) AS completed, sum(early) AS early, sum(held) AS held
        FROM (SELECT * FROM gone UNION ALL SELECT * FROM fresh) x
        GROUP BY """ + KEY + r""")
    INSERT INTO reporting_campaignoutcomeday AS d (""" + KEY + r""", won, completed, early, held)
    SELECT """ + KEY + r""", won, completed, early, held FROM delta
    WHERE won <> 0 OR completed <> 0 OR early <> 0 OR held <> 0
    ON CONFLICT (""" + KEY + r""") DO UPDATE SET
        won = d.won + EXCLUDED.won, completed = d.completed + EXCLUDED.completed,
        early = d.early + EXCLUDED.early, held = d.held + EXCLUDED.held;
$fn$;

CREATE OR REPLACE FUNCTION reporting_campaigns_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_campaignoutcome;
    DELETE FROM reporting_campaignoutcomeday;
    INSERT INTO reporting_campaignoutcome (cycle_id, assigned_at, rep_id, source, lead_type, campaign_id, won,
                                           completed, early, held)
    SELECT cycle_id, assigned_at, rep_id, source, lead_type, campaign_id, won, completed, early, held
    FROM (""" + SOURCE.format(where="true") + r""") f;
    INSERT INTO reporting_campaignoutcomeday (""" + KEY + r""", won, completed, early, held)
    SELECT (assigned_at AT TIME ZONE 'UTC')::date, rep_id, source, lead_type, campaign_id,
           sum(won), sum(completed), sum(early), sum(held)
    FROM reporting_campaignoutcome
    GROUP BY 1, rep_id, source, lead_type, campaign_id;
END $fn$;

-- TG_ARGV: [0] the columns the outcomes read, [1] the column naming the changed rows' key,
-- [2] the cycles of those keys, with %s for the set of keys.
CREATE OR REPLACE FUNCTION reporting_campaigns_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    keys text;
    cycles bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        keys := format('SELECT %s FROM new_rows', TG_ARGV[1]);
    ELSIF TG_OP = 'DELETE' THEN
        keys := format('SELECT %s FROM old_rows', TG_ARGV[1]);
    ELSE  -- hashed set differences over the columns read (a no-op UPDATE recomputes nothing)
        keys := format('SELECT %2$s FROM (SELECT %1$s FROM new_rows EXCEPT SELECT %1$s FROM old_rows) n UNION '
                       'SELECT %2$s FROM (SELECT %1$s FROM old_rows EXCEPT SELECT %1$s FROM new_rows) o',
                       TG_ARGV[0], TG_ARGV[1]);
    END IF;
    EXECUTE format('SELECT ARRAY(SELECT DISTINCT k FROM (' || TG_ARGV[2] || ') z(k) WHERE k IS NOT NULL)', keys)
        INTO cycles;
    IF cardinality(cycles) > 0 THEN
        PERFORM reporting_campaignoutcome_refresh(cycles);
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_campaigns_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_campaigns_rebuild();
    RETURN NULL;
END $fn$;
"""

# table, trigger name, columns read, key column, the key's cycles
WATCHED = [
    ("people_leadcycle", "cycle", "id, assigned_at, rep_id, source, lead_type, campaign_record_id, exception_at", "id",
     "%s"),
    ("meetings_meeting", "meeting", "id, lead_cycle_id, status, opportunity_id", "lead_cycle_id", "%s"),
    ("meetings_opportunity", "opportunity", "id, pipeline_at, stage_id", "id",
     "SELECT m.lead_cycle_id FROM meetings_meeting m WHERE m.opportunity_id IN (%s)"),
    ("meetings_opportunitystage", "stage", "id, outcome", "id",
     "SELECT m.lead_cycle_id FROM meetings_meeting m JOIN meetings_opportunity o ON o.id = m.opportunity_id "
     "WHERE o.stage_id IN (%s)"),
    ("cadences_enrolment", "enrolment", "id, lead_cycle_id, state", "lead_cycle_id", "%s"),
    ("cadences_enrolmentstep", "step", "id, enrolment_id, outcome", "enrolment_id",
     "SELECT e.lead_cycle_id FROM cadences_enrolment e WHERE e.id IN (%s)"),
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _triggers() -> str:
    out = []
    for table, name, columns, key, cycles in WATCHED:
        args = ", ".join(_quote(a) for a in (columns, key, cycles))
        for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                            ("DELETE", "OLD TABLE AS old_rows")):
            trigger = f"reporting_campaigns_{name}_{event.lower()}"
            out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table};\n"
                       f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {refs} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION reporting_campaigns_changed({args});")
        out.append(f"DROP TRIGGER IF EXISTS reporting_campaigns_{name}_truncate ON {table};\n"
                   f"CREATE TRIGGER reporting_campaigns_{name}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION reporting_campaigns_truncated();")
    return "\n".join(out)


DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_campaigns_{name}_{event} ON {table};"
     for table, name, *_ in WATCHED for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_campaigns_truncated();",
       "DROP FUNCTION IF EXISTS reporting_campaigns_changed();",
       "DROP FUNCTION IF EXISTS reporting_campaigns_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_campaignoutcome_refresh(bigint[]);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0026_campaign_outcomes"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, _triggers(), "SELECT reporting_campaigns_rebuild();"]), DROP),
    ]
