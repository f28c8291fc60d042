"""reporting.CampaignTouch / CampaignTouchDay (per lead cycle not marked an exception and each
campaign its contact interacted with: the cycle's assignment, rep, source, lead type and SQL /
Opp / won flags; and the same summed per UTC day, rep, source, lead type and campaign): the
campaign page's similar cohort subtracts these from its (lead type, source) totals. Kept by
statement-level triggers on lead cycles (their own columns and kept flags), campaign
interactions (the contact's set of campaigns) and reporting_campaignoutcome (the won flag, kept
by migration 0027's triggers, which fire this one in turn): the touches of the cycles a
statement touched are recomputed, and the day rows take the difference.
reporting_campaigntouches_rebuild() recomputes both from history (after the campaign outcomes it reads)."""

from django.db import migrations, models

# The touches of the cycles {where} narrows: one row per (cycle, campaign its contact interacted
# with); won as the campaign page reads it (a won outcome of the cycle). {campaigns} gives each
# cycle's campaigns: a lookup per cycle through the interactions' contact index for the few
# cycles a statement touched, one hashed pass over all interactions for the rebuild.
SOURCE = """
    SELECT c.id AS cycle_id, k.campaign_id, c.assigned_at, c.rep_id, c.source, c.lead_type, c.is_sql, c.is_opp,
           EXISTS (SELECT 1 FROM reporting_campaignoutcome w WHERE w.cycle_id = c.id AND w.won > 0) AS is_won
    FROM people_leadcycle c
    {campaigns}
    WHERE c.exception_at IS NULL AND {where}"""
PER_CYCLE = """CROSS JOIN LATERAL (SELECT DISTINCT ci.campaign_id FROM campaigns_campaigninteraction ci
                                  WHERE ci.contact_id = c.contact_id) k"""
ALL_AT_ONCE = """JOIN (SELECT DISTINCT ci.contact_id, ci.campaign_id FROM campaigns_campaigninteraction ci) k
        ON k.contact_id = c.contact_id"""
COLUMNS = "cycle_id, campaign_id, assigned_at, rep_id, source, lead_type, is_sql, is_opp, is_won"
KEY = "day, rep_id, source, lead_type, campaign_id"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_campaigntouch_refresh(cycles bigint[]) RETURNS void LANGUAGE sql AS $fn$
    WITH gone AS (
        DELETE FROM reporting_campaigntouch WHERE cycle_id = ANY(cycles)
        RETURNING (assigned_at AT TIME ZONE 'UTC')::date AS day, rep_id, source, lead_type, campaign_id,
                  -1 AS leads, -is_sql::int AS sql, -is_opp::int AS opp, -is_won::int AS won),
    fresh AS (
        INSERT INTO reporting_campaigntouch (""" + COLUMNS + r""")
        SELECT """ + COLUMNS + r""" FROM (""" + SOURCE.format(campaigns=PER_CYCLE, where="c.id = ANY(cycles)") + r""") f
        RETURNING (assigned_at AT TIME ZONE 'UTC')::date AS day, rep_id, source, lead_type, campaign_id,
                  1 AS leads, is_sql::int AS sql, is_opp::int AS opp, is_won::int AS won),
    delta AS (
        SELECT """ + KEY + r""", sum(leads) AS leads, sum(sql) AS sql, sum(opp) AS opp, sum(won) AS won
        FROM (SELECT * FROM gone UNION ALL SELECT * FROM fresh) x
        GROUP BY """ + KEY + r""")
    INSERT INTO reporting_campaigntouchday AS d (""" + KEY + r""", leads, sql, opp, won)
    SELECT """ + KEY + r""", leads, sql, opp, won FROM delta
    WHERE leads <> 0 OR sql <> 0 OR opp <> 0 OR won <> 0
    ON CONFLICT (""" + KEY + r""") DO UPDATE SET
        leads = d.leads + EXCLUDED.leads, sql = d.sql + EXCLUDED.sql, opp = d.opp + EXCLUDED.opp, won = d.won + EXCLUDED.won;
$fn$;

-- The won flag reads the campaign outcomes: they are rebuilt first, with the triggers quiet
-- (each of their statements would otherwise recompute the touches of all their cycles).
CREATE OR REPLACE FUNCTION reporting_campaigntouches_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    was text := current_setting('reporting.rebuilding', true);
BEGIN
    PERFORM set_config('reporting.rebuilding', 'on', true);
    PERFORM reporting_campaigns_rebuild();
    DELETE FROM reporting_campaigntouch;
    DELETE FROM reporting_campaigntouchday;
    INSERT INTO reporting_campaigntouch (""" + COLUMNS + r""")
    SELECT """ + COLUMNS + r""" FROM (""" + SOURCE.format(campaigns=ALL_AT_ONCE, where="true") + r""") f;
    INSERT INTO reporting_campaigntouchday (""" + KEY + r""", leads, sql, opp, won)
    SELECT (assigned_at AT TIME ZONE 'UTC')::date, rep_id, source, lead_type, campaign_id,
           count(*), count(*) FILTER (WHERE is_sql), count(*) FILTER (WHERE is_opp), count(*) FILTER (WHERE is_won)
    FROM reporting_campaigntouch
    GROUP BY 1, rep_id, source, lead_type, campaign_id;
    PERFORM set_config('reporting.rebuilding', coalesce(was, 'off'), true);
END $fn$;

-- TG_ARGV: [0] the columns the touches read, [1] the column naming the changed rows' key,
-- [2] the cycles of those keys, with %s for the set of keys.
CREATE OR REPLACE FUNCTION reporting_campaigntouches_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
        PERFORM reporting_campaigntouch_refresh(cycles);
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_campaigntouches_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_campaigntouches_rebuild();
    RETURN NULL;
END $fn$;
"""

# table, trigger name, columns read, key column, the key's cycles. A deleted cycle's touches go
# with its id; an interaction changes the touches of every cycle of its contact.
WATCHED = [
    ("people_leadcycle", "cycle", "id, contact_id, assigned_at, rep_id, source, lead_type, is_sql, is_opp, exception_at",
     "id", "%s"),
    ("campaigns_campaigninteraction", "interaction", "id, contact_id, campaign_id", "contact_id",
     "SELECT x.id FROM people_leadcycle x WHERE x.contact_id IN (%s)"),
    ("reporting_campaignoutcome", "outcome", "id, cycle_id, won", "cycle_id", "%s"),
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _triggers() -> str:
    out = []
    for table, name, columns, key, cycles in WATCHED:
        args = ", ".join(_quote(a) for a in (columns, key, cycles))
        for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                            ("DELETE", "OLD TABLE AS old_rows")):
            trigger = f"reporting_campaigntouches_{name}_{event.lower()}"
            out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table};\n"
                       f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {refs} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION reporting_campaigntouches_changed({args});")
        out.append(f"DROP TRIGGER IF EXISTS reporting_campaigntouches_{name}_truncate ON {table};\n"
                   f"CREATE TRIGGER reporting_campaigntouches_{name}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION reporting_campaigntouches_truncated();")
    return "\n".join(out)


DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_campaigntouches_{name}_{event} ON {table};"
     for table, name, *_ in WATCHED for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_campaigntouches_truncated();",
       "DROP FUNCTION IF EXISTS reporting_campaigntouches_changed();",
       "DROP FUNCTION IF EXISTS reporting_campaigntouches_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_campaigntouch_refresh(bigint[]);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0029_camp_report_indexes"),
        ("campaigns", "0005_field_history_alarms"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignTouch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cycle_id", models.BigIntegerField(db_index=True)),
                ("campaign_id", models.BigIntegerField()),
                ("assigned_at", models.DateTimeField(db_index=True)),
                ("rep_id", models.BigIntegerField(null=True)),
                ("source", models.CharField(max_length=20)),
                ("lead_type", models.CharField(max_length=20)),
                ("is_sql", models.BooleanField()),
                ("is_opp", models.BooleanField()),
                ("is_won", models.BooleanField()),
            ],
        ),
        migrations.CreateModel(
            name="CampaignTouchDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("rep_id", models.BigIntegerField(null=True)),
                ("source", models.CharField(max_length=20)),
                ("lead_type", models.CharField(max_length=20)),
                ("campaign_id", models.BigIntegerField()),
                ("leads", models.IntegerField(default=0)),
                ("sql", models.IntegerField(default=0)),
                ("opp", models.IntegerField(default=0)),
                ("won", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id", "source", "lead_type", "campaign_id"),
                                                        name="reporting_campaigntouchday_key", nulls_distinct=False)],
            },
        ),
        migrations.RunSQL("\n".join([FUNCTIONS, _triggers(), "SELECT reporting_campaigntouches_rebuild();"]), DROP),
    ]
