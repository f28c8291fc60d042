"""reporting.CampaignOpportunity / CampaignOpportunityDay: the campaign page's opportunities,
pipeline and won deals. One fact per (lead cycle not marked an exception with a campaign,
opportunity of one of its Completed – Qualified meetings that reached the pipeline stage), with
the opportunity's amount and won flag and whether another cycle of the same campaign came to the
same opportunity ("shared"). An opportunity counts once per campaign: the unshared facts are the
only ones of their (campaign, opportunity), so they are summed per UTC day, rep, lead type and
campaign; the page reads the shared ones of the window raw (a partial index) and counts them
distinct. Kept by statement-level triggers on lead cycles, meetings, opportunities and stages:
every fact of the opportunities a statement touched is recomputed, the day rows take the
difference. reporting_campaignopps_rebuild() recomputes both from history."""

from django.db import migrations, models

# The facts of the opportunities {where} narrows (o is the opportunity).
SOURCE = """
    SELECT f.*, count(*) OVER (PARTITION BY f.campaign_id, f.opportunity_id) > 1 AS shared
    FROM (SELECT DISTINCT c.id AS cycle_id, c.assigned_at, c.rep_id, c.lead_type, c.campaign_record_id AS campaign_id,
                 o.id AS opportunity_id, o.amount, st.outcome = 'won' AS won
          FROM meetings_opportunity o
          JOIN meetings_opportunitystage st ON st.id = o.stage_id
          JOIN meetings_meeting m ON m.opportunity_id = o.id AND m.status = 'completed_qualified'
          JOIN people_leadcycle c ON c.id = m.lead_cycle_id
          WHERE o.pipeline_at IS NOT NULL AND c.exception_at IS NULL AND c.campaign_record_id IS NOT NULL AND {where}) f"""
COLUMNS = "cycle_id, assigned_at, rep_id, lead_type, campaign_id, opportunity_id, amount, won, shared"
KEY = "day, rep_id, lead_type, campaign_id"
# A fact's part of its day row (the shared ones are in none).
PART = ("(assigned_at AT TIME ZONE 'UTC')::date AS day, rep_id, lead_type, campaign_id, {s}1 AS opportunities, "
        "{s}coalesce(amount, 0) AS pipeline, {s}won::int AS won, {s}CASE WHEN won THEN coalesce(amount, 0) ELSE 0 END AS won_amount")
SUMS = "sum(opportunities) AS opportunities, sum(pipeline) AS pipeline, sum(won) AS won, sum(won_amount) AS won_amount"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_campaignopp_refresh(opps bigint[]) RETURNS void LANGUAGE sql AS $fn$
    WITH gone AS (
        DELETE FROM reporting_campaignopp WHERE opportunity_id = ANY(opps)
        RETURNING """ + PART.format(s="-") + r""", shared),
    fresh AS (
        INSERT INTO reporting_campaignopp (""" + COLUMNS + r""")
        SELECT """ + COLUMNS + r""" FROM (""" + SOURCE.format(where="o.id = ANY(opps)") + r""") f
        RETURNING """ + PART.format(s="") + r""", shared),
    delta AS (
        SELECT """ + KEY + ", " + SUMS + r"""
        FROM (SELECT * FROM gone WHERE NOT shared UNION ALL SELECT * FROM fresh WHERE NOT shared) x
        GROUP BY """ + KEY + r""")
    INSERT INTO reporting_campaignoppday AS d (""" + KEY + r""", opportunities, pipeline, won, won_amount)
    SELECT """ + KEY + r""", opportunities, pipeline, won, won_amount FROM delta
    WHERE opportunities <> 0 OR pipeline <> 0 OR won <> 0 OR won_amount <> 0
    ON CONFLICT (""" + KEY + r""") DO UPDATE SET
        opportunities = d.opportunities + EXCLUDED.opportunities, pipeline = d.pipeline + EXCLUDED.pipeline,
        won = d.won + EXCLUDED.won, won_amount = d.won_amount + EXCLUDED.won_amount;
$fn$;

CREATE OR REPLACE FUNCTION reporting_campaignopps_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_campaignopp;
    DELETE FROM reporting_campaignoppday;
    INSERT INTO reporting_campaignopp (""" + COLUMNS + r""")
    SELECT """ + COLUMNS + r""" FROM (""" + SOURCE.format(where="true") + r""") f;
    INSERT INTO reporting_campaignoppday (""" + KEY + r""", opportunities, pipeline, won, won_amount)
    SELECT """ + KEY + ", " + SUMS + r"""
    FROM (SELECT """ + PART.format(s="") + r""" FROM reporting_campaignopp WHERE NOT shared) x
    GROUP BY """ + KEY + r""";
END $fn$;

-- TG_ARGV: [0] the columns the facts read, [1] the column naming the changed rows' key,
-- [2] the opportunities of those keys, with %s for the set of keys.
CREATE OR REPLACE FUNCTION reporting_campaignopps_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    keys text;
    opps bigint[];
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
        INTO opps;
    IF cardinality(opps) > 0 THEN
        PERFORM reporting_campaignopp_refresh(opps);
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_campaignopps_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_campaignopps_rebuild();
    RETURN NULL;
END $fn$;

CREATE INDEX IF NOT EXISTS reporting_campaignopp_opportunity ON reporting_campaignopp (opportunity_id);
CREATE INDEX IF NOT EXISTS reporting_campaignopp_cycle ON reporting_campaignopp (cycle_id);
CREATE INDEX IF NOT EXISTS reporting_campaignopp_assigned ON reporting_campaignopp (assigned_at);
CREATE INDEX IF NOT EXISTS reporting_campaignopp_shared ON reporting_campaignopp (assigned_at) WHERE shared;
"""

# table, trigger name, columns read, key column, the key's opportunities. A cycle's facts name
# their opportunities; a cycle's meetings name those it may have now.
WATCHED = [
    ("people_leadcycle", "cycle", "id, assigned_at, rep_id, lead_type, campaign_record_id, exception_at", "id",
     "WITH k AS (%s) SELECT f.opportunity_id FROM reporting_campaignopp f WHERE f.cycle_id IN (SELECT * FROM k) "
     "UNION SELECT m.opportunity_id FROM meetings_meeting m WHERE m.lead_cycle_id IN (SELECT * FROM k)"),
    ("meetings_meeting", "meeting", "id, lead_cycle_id, status, opportunity_id", "opportunity_id", "%s"),
    ("meetings_opportunity", "opportunity", "id, pipeline_at, stage_id, amount", "id", "%s"),
    ("meetings_opportunitystage", "stage", "id, outcome", "id",
     "SELECT o.id FROM meetings_opportunity o WHERE o.stage_id IN (%s)"),
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _triggers() -> str:
    out = []
    for table, name, columns, key, opps in WATCHED:
        args = ", ".join(_quote(a) for a in (columns, key, opps))
        for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                            ("DELETE", "OLD TABLE AS old_rows")):
            trigger = f"reporting_campaignopps_{name}_{event.lower()}"
            out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table};\n"
                       f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {refs} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION reporting_campaignopps_changed({args});")
        out.append(f"DROP TRIGGER IF EXISTS reporting_campaignopps_{name}_truncate ON {table};\n"
                   f"CREATE TRIGGER reporting_campaignopps_{name}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION reporting_campaignopps_truncated();")
    return "\n".join(out)


DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_campaignopps_{name}_{event} ON {table};"
     for table, name, *_ in WATCHED for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_campaignopps_truncated();",
       "DROP FUNCTION IF EXISTS reporting_campaignopps_changed();",
       "DROP FUNCTION IF EXISTS reporting_campaignopps_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_campaignopp_refresh(bigint[]);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0031_camp_nurture_days"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignOpportunity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cycle_id", models.BigIntegerField()),
                ("assigned_at", models.DateTimeField()),
                ("rep_id", models.BigIntegerField(null=True)),
                ("lead_type", models.CharField(max_length=20)),
                ("campaign_id", models.BigIntegerField()),
                ("opportunity_id", models.BigIntegerField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14, null=True)),
                ("won", models.BooleanField()),
                ("shared", models.BooleanField()),
            ],
            options={"db_table": "reporting_campaignopp"},
        ),
        migrations.CreateModel(
            name="CampaignOpportunityDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("rep_id", models.BigIntegerField(null=True)),
                ("lead_type", models.CharField(max_length=20)),
                ("campaign_id", models.BigIntegerField()),
                ("opportunities", models.IntegerField(default=0)),
                ("pipeline", models.DecimalField(decimal_places=2, default=0, max_digits=18)),
                ("won", models.IntegerField(default=0)),
                ("won_amount", models.DecimalField(decimal_places=2, default=0, max_digits=18)),
            ],
            options={
                "db_table": "reporting_campaignoppday",
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id", "lead_type", "campaign_id"),
                                                        name="reporting_campaignoppday_key", nulls_distinct=False)],
            },
        ),
        migrations.RunSQL("\n".join([FUNCTIONS, _triggers(), "SELECT reporting_campaignopps_rebuild();"]), DROP),
    ]
