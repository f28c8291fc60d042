"""reporting.NurtureDay / NurtureDueDay: the leads in nurture now (reporting_nurturefact)
counted per UTC day of their nurture disposition, rep, lead type and reason (with how many wait
in a program), and those waiting in a program per UTC day of their recycle date. Kept by a
statement-level trigger on the facts themselves (each statement's old rows count -1, its new
rows +1), so they follow whatever keeps the facts (migration 0024's triggers).
reporting_nurturedays_rebuild() recomputes both from the facts."""

from django.db import migrations, models

DAY_KEY = "day, rep_id, lead_type, reason"
# (table, the rows' day, the counted columns, which facts)
COUNTS = [
    ("reporting_nurtureday", "(dispositioned_at AT TIME ZONE 'UTC')::date", ("leads", "in_program"),
     ("1", "(in_program IS TRUE)::int"), "true"),
    ("reporting_nurturedueday", "(recycle_due_at AT TIME ZONE 'UTC')::date", ("leads",), ("1",),
     "in_program AND recycle_due_at IS NOT NULL"),
]


def _upsert(table, day, columns, values, which, sides) -> str:
    parts = [f"SELECT {day} AS day, rep_id, lead_type, reason, "
             + ", ".join(f"{sign}{v} AS {c}" for v, c in zip(values, columns, strict=True))
             + f" FROM {rows} WHERE {which}" for rows, sign in sides]
    sums = ", ".join(f"sum({c}) AS {c}" for c in columns)
    return (f"INSERT INTO {table} AS d ({DAY_KEY}, {', '.join(columns)})\n"
            f"    SELECT {DAY_KEY}, {sums} FROM ({' UNION ALL '.join(parts)}) x GROUP BY {DAY_KEY}\n"
            f"    HAVING {' OR '.join(f'sum({c}) <> 0' for c in columns)}\n"
            f"    ON CONFLICT ({DAY_KEY}) DO UPDATE SET "
            + ", ".join(f"{c} = d.{c} + EXCLUDED.{c}" for c in columns) + ";")


def _branch(sides) -> str:
    return "\n        ".join(_upsert(*count, sides) for count in COUNTS)


def _fill() -> str:
    # A plain insert (the tables were just emptied): the key's unique index is made at the end of
    # this migration (Django defers it), after the rebuild below has run.
    out = []
    for table, day, columns, values, which in COUNTS:
        sums = ", ".join(f"sum({v})" for v in values)
        out.append(f"INSERT INTO {table} ({DAY_KEY}, {', '.join(columns)})\n"
                   f"    SELECT {day}, rep_id, lead_type, reason, {sums} FROM reporting_nurturefact WHERE {which}\n"
                   f"    GROUP BY 1, rep_id, lead_type, reason;")
    return "\n    ".join(out)


FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_nurturedays_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        """ + _branch([("new_rows", "")]) + r"""
    ELSIF TG_OP = 'DELETE' THEN
        """ + _branch([("old_rows", "-")]) + r"""
    ELSE
        """ + _branch([("new_rows", ""), ("old_rows", "-")]) + r"""
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_nurturedays_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_nurtureday;
    DELETE FROM reporting_nurturedueday;
    """ + _fill() + r"""
END $fn$;

CREATE OR REPLACE FUNCTION reporting_nurturedays_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_nurturedays_rebuild();
    RETURN NULL;
END $fn$;

DROP TRIGGER IF EXISTS reporting_nurturedays_insert ON reporting_nurturefact;
CREATE TRIGGER reporting_nurturedays_insert AFTER INSERT ON reporting_nurturefact REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_nurturedays_changed();
DROP TRIGGER IF EXISTS reporting_nurturedays_update ON reporting_nurturefact;
CREATE TRIGGER reporting_nurturedays_update AFTER UPDATE ON reporting_nurturefact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_nurturedays_changed();
DROP TRIGGER IF EXISTS reporting_nurturedays_delete ON reporting_nurturefact;
CREATE TRIGGER reporting_nurturedays_delete AFTER DELETE ON reporting_nurturefact REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_nurturedays_changed();
DROP TRIGGER IF EXISTS reporting_nurturedays_truncate ON reporting_nurturefact;
CREATE TRIGGER reporting_nurturedays_truncate AFTER TRUNCATE ON reporting_nurturefact
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_nurturedays_truncated();

-- The page's raw slices: the facts of a cut-off's or the median's day, by disposition time and
-- by recycle date.
CREATE INDEX IF NOT EXISTS reporting_nurturefact_dispositioned ON reporting_nurturefact (dispositioned_at);
CREATE INDEX IF NOT EXISTS reporting_nurturefact_due ON reporting_nurturefact (recycle_due_at) WHERE in_program;
SELECT reporting_nurturedays_rebuild();
"""

DROP = """
DROP TRIGGER IF EXISTS reporting_nurturedays_insert ON reporting_nurturefact;
DROP TRIGGER IF EXISTS reporting_nurturedays_update ON reporting_nurturefact;
DROP TRIGGER IF EXISTS reporting_nurturedays_delete ON reporting_nurturefact;
DROP TRIGGER IF EXISTS reporting_nurturedays_truncate ON reporting_nurturefact;
DROP FUNCTION IF EXISTS reporting_nurturedays_truncated();
DROP FUNCTION IF EXISTS reporting_nurturedays_rebuild();
DROP FUNCTION IF EXISTS reporting_nurturedays_changed();
DROP INDEX IF EXISTS reporting_nurturefact_dispositioned;
DROP INDEX IF EXISTS reporting_nurturefact_due;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0030_camp_campaign_touches"),
    ]

    operations = [
        migrations.CreateModel(
            name="NurtureDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(null=True)),
                ("rep_id", models.BigIntegerField(null=True)),
                ("lead_type", models.CharField(max_length=20)),
                ("reason", models.CharField(max_length=200)),
                ("leads", models.IntegerField(default=0)),
                ("in_program", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id", "lead_type", "reason"),
                                                        name="reporting_nurtureday_key", nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name="NurtureDueDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("rep_id", models.BigIntegerField(null=True)),
                ("lead_type", models.CharField(max_length=20)),
                ("reason", models.CharField(max_length=200)),
                ("leads", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id", "lead_type", "reason"),
                                                        name="reporting_nurturedueday_key", nulls_distinct=False)],
            },
        ),
        migrations.RunSQL(FUNCTIONS, DROP),
    ]
