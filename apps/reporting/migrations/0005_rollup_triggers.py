"""Database triggers that keep the report rollups (apps.reporting.models) and the report flags
on each lead cycle (leads.LeadCycle.is_sql / is_opp / sla_breached / campaign_record_id).

Why triggers: the numbers must equal the from-scratch computation whichever path wrote the
data — services, the admin, the API, COPY imports, the demo seed and the benchmarks' raw SQL
— and must be current inside the writing transaction. Every trigger is statement-level with
transition tables, so a 100,000-row COPY costs one grouped upsert, not 100,000 calls; an UPDATE
that changes nothing a rollup counts nets to zero and writes nothing.

Deltas, not recounts: a statement's rows add their contribution (+1) as they are after it and
subtract it (-1) as they were before, grouped by the rollup key. Rollup rows are upserted in
key order (fewer lock-order deadlocks between concurrent writers). Rows whose counts net to
zero stay; readers ignore them.

`reporting_rollups_rebuild()` recomputes everything from history (the ops command
`rebuild_report_rollups` calls it); with `reporting.rebuilding` set the triggers stand aside
while it runs. Values (statuses, kinds, activity types) are the models' choices at the time of
this migration; a later migration replaces a function if one of them changes.
"""

from django.db import migrations

OUTREACH = "ARRAY['call', 'email', 'social', 'meeting']"

# -- lead cycles → reporting_cycleday ------------------------------------------------------
# `src` is a query yielding `sign` and the people_leadcycle columns.
CYCLEDAY_FUNCTION = r"""
CREATE OR REPLACE FUNCTION reporting_cycleday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_cycleday AS r
        (day, rep_id, source, lead_type, campaign_id, assigned, picked_up, responded, qualified, opp, breaches, no_touch)
    SELECT (x.assigned_at AT TIME ZONE 'UTC')::date, x.rep_id, x.source, x.lead_type, x.campaign_record_id,
           sum(x.sign),
           sum(x.sign * (x.worked_at IS NOT NULL OR x.dispositioned_at IS NOT NULL)::int),
           sum(x.sign * (x.first_touch_at IS NOT NULL AND NOT x.bypassed_working)::int),
           sum(x.sign * x.is_sql::int),
           sum(x.sign * x.is_opp::int),
           -- settled breaches only: an untouched open cycle's breach depends on the clock
           sum(x.sign * coalesce(x.sla_breached OR (x.sla_maximum_at IS NOT NULL AND (
                   (x.first_touch_at IS NOT NULL AND x.first_touch_at > x.sla_maximum_at)
                   OR (x.first_touch_at IS NULL AND x.dispositioned_at IS NOT NULL
                       AND x.sla_maximum_at < x.dispositioned_at))), false)::int),
           sum(x.sign * (x.dispositioned_at IS NOT NULL AND x.first_touch_at IS NULL)::int)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5
    HAVING ROW(sum(x.sign), sum(x.sign * (x.worked_at IS NOT NULL OR x.dispositioned_at IS NOT NULL)::int),
               sum(x.sign * (x.first_touch_at IS NOT NULL AND NOT x.bypassed_working)::int),
               sum(x.sign * x.is_sql::int), sum(x.sign * x.is_opp::int),
               sum(x.sign * coalesce(x.sla_breached OR (x.sla_maximum_at IS NOT NULL AND (
                   (x.first_touch_at IS NOT NULL AND x.first_touch_at > x.sla_maximum_at)
                   OR (x.first_touch_at IS NULL AND x.dispositioned_at IS NOT NULL
                       AND x.sla_maximum_at < x.dispositioned_at))), false)::int),
               sum(x.sign * (x.dispositioned_at IS NOT NULL AND x.first_touch_at IS NULL)::int))
           <> ROW(0, 0, 0, 0, 0, 0, 0)
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, source, lead_type, campaign_id) DO UPDATE SET
        assigned = r.assigned + EXCLUDED.assigned, picked_up = r.picked_up + EXCLUDED.picked_up,
        responded = r.responded + EXCLUDED.responded, qualified = r.qualified + EXCLUDED.qualified,
        opp = r.opp + EXCLUDED.opp, breaches = r.breaches + EXCLUDED.breaches, no_touch = r.no_touch + EXCLUDED.no_touch
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_cycleday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_cycleday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_cycleday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

# -- the flags on a cycle, from meetings, opportunities, breaches and campaign links ----------
FLAGS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION reporting_cycle_flags_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $fn$
    UPDATE people_leadcycle c
    SET is_sql = f.is_sql, is_opp = f.is_opp, sla_breached = f.sla_breached, campaign_record_id = f.campaign_id
    FROM (SELECT c2.id,
                 EXISTS (SELECT 1 FROM meetings_meeting m
                         WHERE m.lead_cycle_id = c2.id AND m.status = 'completed_qualified') AS is_sql,
                 EXISTS (SELECT 1 FROM meetings_meeting m JOIN meetings_opportunity o ON o.id = m.opportunity_id
                         WHERE m.lead_cycle_id = c2.id AND m.status = 'completed_qualified'
                           AND o.pipeline_at IS NOT NULL) AS is_opp,
                 EXISTS (SELECT 1 FROM people_slabreach b WHERE b.cycle_id = c2.id AND b.kind = 'maximum') AS sla_breached,
                 (SELECT ci.campaign_id FROM campaigns_campaigninteraction ci WHERE ci.lead_cycle_id = c2.id) AS campaign_id
          FROM people_leadcycle c2 WHERE c2.id = ANY(ids)) f
    WHERE c.id = f.id
      AND (c.is_sql, c.is_opp, c.sla_breached, c.campaign_record_id)
          IS DISTINCT FROM (f.is_sql, f.is_opp, f.sla_breached, f.campaign_id)
$fn$;

CREATE OR REPLACE FUNCTION reporting_meeting_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT lead_cycle_id FROM new_rows WHERE lead_cycle_id IS NOT NULL AND status = 'completed_qualified');
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(
            SELECT cid FROM (SELECT n.lead_cycle_id AS a, o.lead_cycle_id AS b FROM new_rows n JOIN old_rows o ON o.id = n.id
                             WHERE (n.lead_cycle_id, n.status, n.opportunity_id) IS DISTINCT FROM
                                   (o.lead_cycle_id, o.status, o.opportunity_id)) d,
                 LATERAL (VALUES (d.a), (d.b)) v(cid)
            WHERE cid IS NOT NULL GROUP BY cid);
    ELSE
        ids := ARRAY(SELECT DISTINCT lead_cycle_id FROM old_rows WHERE lead_cycle_id IS NOT NULL);
    END IF;
    IF cardinality(ids) > 0 THEN PERFORM reporting_cycle_flags_refresh(ids); END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_opportunity_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    ids := ARRAY(SELECT DISTINCT m.lead_cycle_id
                 FROM new_rows n JOIN old_rows o ON o.id = n.id
                 JOIN meetings_meeting m ON m.opportunity_id = n.id
                 WHERE (n.pipeline_at IS NULL) <> (o.pipeline_at IS NULL) AND m.lead_cycle_id IS NOT NULL);
    IF cardinality(ids) > 0 THEN PERFORM reporting_cycle_flags_refresh(ids); END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_cycle_link_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
-- people_slabreach (cycle_id) and campaigns_campaigninteraction (lead_cycle_id): TG_ARGV[0] names the column.
DECLARE ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT ARRAY(SELECT DISTINCT %I FROM new_rows WHERE %I IS NOT NULL)', TG_ARGV[0], TG_ARGV[0]) INTO ids;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('SELECT ARRAY(SELECT %I FROM new_rows WHERE %I IS NOT NULL UNION SELECT %I FROM old_rows WHERE %I IS NOT NULL)',
                       TG_ARGV[0], TG_ARGV[0], TG_ARGV[0], TG_ARGV[0]) INTO ids;
    ELSE
        EXECUTE format('SELECT ARRAY(SELECT DISTINCT %I FROM old_rows WHERE %I IS NOT NULL)', TG_ARGV[0], TG_ARGV[0]) INTO ids;
    END IF;
    IF cardinality(ids) > 0 THEN PERFORM reporting_cycle_flags_refresh(ids); END IF;
    RETURN NULL;
END $fn$;
"""

# -- activities → reporting_activityhour, reporting_firsttouch → reporting_researchday --------
ACTIVITY_FUNCTIONS = rf"""
CREATE OR REPLACE FUNCTION reporting_activityhour_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_activityhour AS r (hour, rep_id, activities)
    SELECT date_trunc('hour', x.occurred_at, 'UTC'), x.rep_id, sum(x.sign)
    FROM (%s) x WHERE NOT x.automated AND x.rep_id IS NOT NULL
    GROUP BY 1, 2 HAVING sum(x.sign) <> 0 ORDER BY 1, 2
    ON CONFLICT (hour, rep_id) DO UPDATE SET activities = r.activities + EXCLUDED.activities
$q$, src)
$fn$;

-- First touches from new activities (or all of history): the earlier of what is kept and what came.
CREATE OR REPLACE FUNCTION reporting_firsttouch_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_firsttouch AS f (rep_id, account_id, first_outreach_at, first_research_at)
    SELECT x.rep_id, x.account_id,
           min(x.occurred_at) FILTER (WHERE x.type = ANY({OUTREACH})),
           min(x.occurred_at) FILTER (WHERE x.type = 'intelligence_run')
    FROM (%s) x
    WHERE NOT x.automated AND x.account_id IS NOT NULL AND x.rep_id IS NOT NULL
      AND (x.type = ANY({OUTREACH}) OR x.type = 'intelligence_run')
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (rep_id, account_id) DO UPDATE SET
        first_outreach_at = LEAST(f.first_outreach_at, EXCLUDED.first_outreach_at),
        first_research_at = LEAST(f.first_research_at, EXCLUDED.first_research_at)
    WHERE (f.first_outreach_at, f.first_research_at) IS DISTINCT FROM
          (LEAST(f.first_outreach_at, EXCLUDED.first_outreach_at), LEAST(f.first_research_at, EXCLUDED.first_research_at))
$q$, src)
$fn$;

-- Changed or deleted activities: the pairs they touched, recomputed from what remains.
CREATE OR REPLACE FUNCTION reporting_firsttouch_recompute_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    WITH pairs AS (SELECT DISTINCT x.rep_id, x.account_id FROM (%s) x
                   WHERE x.rep_id IS NOT NULL AND x.account_id IS NOT NULL),
         agg AS (SELECT p.rep_id, p.account_id,
                        min(a.occurred_at) FILTER (WHERE a.type = ANY({OUTREACH})) AS first_outreach_at,
                        min(a.occurred_at) FILTER (WHERE a.type = 'intelligence_run') AS first_research_at
                 FROM pairs p JOIN accounts_activity a ON a.rep_id = p.rep_id AND a.account_id = p.account_id
                 WHERE NOT a.automated AND (a.type = ANY({OUTREACH}) OR a.type = 'intelligence_run')
                 GROUP BY 1, 2),
         gone AS (DELETE FROM reporting_firsttouch f USING pairs p
                  WHERE f.rep_id = p.rep_id AND f.account_id = p.account_id
                    AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.rep_id = p.rep_id AND agg.account_id = p.account_id))
    INSERT INTO reporting_firsttouch AS f (rep_id, account_id, first_outreach_at, first_research_at)
    SELECT * FROM agg ORDER BY 1, 2
    ON CONFLICT (rep_id, account_id) DO UPDATE SET
        first_outreach_at = EXCLUDED.first_outreach_at, first_research_at = EXCLUDED.first_research_at
    WHERE (f.first_outreach_at, f.first_research_at) IS DISTINCT FROM (EXCLUDED.first_outreach_at, EXCLUDED.first_research_at)
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_activityhour_sql('SELECT 1 AS sign, * FROM new_rows');
        EXECUTE reporting_firsttouch_sql('SELECT * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_activityhour_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
        EXECUTE reporting_firsttouch_recompute_sql('SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows');
    ELSE
        EXECUTE reporting_activityhour_sql('SELECT -1 AS sign, * FROM old_rows');
        EXECUTE reporting_firsttouch_recompute_sql('SELECT * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_researchday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_researchday AS r (day, rep_id, reached, researched)
    SELECT (x.first_outreach_at AT TIME ZONE 'UTC')::date, x.rep_id, sum(x.sign),
           sum(x.sign * coalesce(x.first_research_at < x.first_outreach_at, false)::int)
    FROM (%s) x WHERE x.first_outreach_at IS NOT NULL
    GROUP BY 1, 2
    HAVING ROW(sum(x.sign), sum(x.sign * coalesce(x.first_research_at < x.first_outreach_at, false)::int)) <> ROW(0, 0)
    ORDER BY 1, 2
    ON CONFLICT (day, rep_id) DO UPDATE SET reached = r.reached + EXCLUDED.reached,
                                            researched = r.researched + EXCLUDED.researched
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_firsttouch_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_researchday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

# -- TRUNCATE (the demo seed's reset, test flushes): clear or reset what the table fed --------
TRUNCATE_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM set_config('reporting.rebuilding', 'on', true);
    IF TG_TABLE_NAME = 'people_leadcycle' THEN
        DELETE FROM reporting_cycleday;
    ELSIF TG_TABLE_NAME = 'accounts_activity' THEN
        DELETE FROM reporting_activityhour; DELETE FROM reporting_firsttouch; DELETE FROM reporting_researchday;
    ELSIF TG_TABLE_NAME = 'reporting_firsttouch' THEN
        DELETE FROM reporting_researchday;
    END IF;
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

# -- rebuild from history ---------------------------------------------------------------------
REBUILD_FUNCTION = r"""
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
    PERFORM set_config('reporting.rebuilding', 'off', true);
END $fn$;
"""


def _triggers(table: str, function: str, *, events=("INSERT", "UPDATE", "DELETE"), args: str = "") -> str:
    out = []
    for event in events:
        refs = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows"}[event]
        name = f"reporting_{table}_{event.lower()}"
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
                   f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {refs} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}({args});")
    out.append(f"DROP TRIGGER IF EXISTS reporting_{table}_truncate ON {table};\n"
               f"CREATE TRIGGER reporting_{table}_truncate AFTER TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION reporting_truncated();")
    return "\n".join(out)


TRIGGERS = "\n".join([
    _triggers("people_leadcycle", "reporting_cycle_changed"),
    _triggers("meetings_meeting", "reporting_meeting_changed"),
    _triggers("meetings_opportunity", "reporting_opportunity_changed", events=("UPDATE",)),
    _triggers("people_slabreach", "reporting_cycle_link_changed", args="'cycle_id'"),
    _triggers("campaigns_campaigninteraction", "reporting_cycle_link_changed", args="'lead_cycle_id'"),
    _triggers("accounts_activity", "reporting_activity_changed"),
    _triggers("reporting_firsttouch", "reporting_firsttouch_changed"),
])

TABLES = ("people_leadcycle", "meetings_meeting", "meetings_opportunity", "people_slabreach",
          "campaigns_campaigninteraction", "accounts_activity", "reporting_firsttouch")
DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_{t}_{e} ON {t};" for t in TABLES for e in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS " + f + " CASCADE;" for f in (
        "reporting_rollups_rebuild()", "reporting_truncated()", "reporting_firsttouch_changed()",
        "reporting_researchday_sql(text)", "reporting_activity_changed()", "reporting_firsttouch_recompute_sql(text)",
        "reporting_firsttouch_sql(text)", "reporting_activityhour_sql(text)", "reporting_cycle_link_changed()",
        "reporting_opportunity_changed()", "reporting_meeting_changed()", "reporting_cycle_flags_refresh(bigint[])",
        "reporting_cycle_changed()", "reporting_cycleday_sql(text)")])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0004_rollups"),
        ("leads", "0003_report_flags"),
        ("meetings", "0003_move_lead_models_from_people"),
        ("campaigns", "0002_free_text_defaults_schedules_roles"),
        ("accounts", "0008_alter_activity_type"),
    ]

    operations = [
        migrations.RunSQL(
            "\n".join([CYCLEDAY_FUNCTION, FLAGS_FUNCTION, ACTIVITY_FUNCTIONS, TRUNCATE_FUNCTIONS, REBUILD_FUNCTION,
                       TRIGGERS, "SELECT reporting_rollups_rebuild();"]),
            DROP,
        ),
    ]
