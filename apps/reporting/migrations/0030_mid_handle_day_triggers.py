"""reporting.HandleDay kept by statement triggers on reporting_handlefact itself: whatever writes
the facts — the program triggers of migration 0022, their rebuild, raw SQL — the days follow in
the same statement (+1 per fact as it is after, −1 as it was before). A TRUNCATE of the facts
empties the days. The days are filled from the facts here.

reporting_handledays_rebuild() recomputes the days from the facts (apps.reporting.handle_days.REBUILD,
run after the facts' own rebuild)."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_handleday_add_sql(rows text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    -- rows: (sign, rep_id, lead_type, first_touch_at, dispositioned_at, touches)
    SELECT format($q$
    INSERT INTO reporting_handleday AS r (day, rep_id, lead_type, dispositions, touches, handled, handle_s)
    SELECT (f.dispositioned_at AT TIME ZONE 'UTC')::date, f.rep_id, f.lead_type, sum(f.sign), sum(f.sign * f.touches),
           coalesce(sum(f.sign) FILTER (WHERE f.first_touch_at IS NOT NULL), 0),
           coalesce(sum(f.sign * EXTRACT(EPOCH FROM f.dispositioned_at - f.first_touch_at))
                    FILTER (WHERE f.first_touch_at IS NOT NULL), 0)
    FROM (%s) f
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (day, rep_id, lead_type) DO UPDATE SET dispositions = r.dispositions + EXCLUDED.dispositions,
        touches = r.touches + EXCLUDED.touches, handled = r.handled + EXCLUDED.handled,
        handle_s = r.handle_s + EXCLUDED.handle_s
    $q$, rows)
$fn$;

CREATE OR REPLACE FUNCTION reporting_handleday_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := 'rep_id, lead_type, first_touch_at, dispositioned_at, touches';
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_handleday_add_sql(format('SELECT 1 AS sign, %s FROM new_rows', cols));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE reporting_handleday_add_sql(format('SELECT -1 AS sign, %s FROM old_rows', cols));
    ELSE
        EXECUTE reporting_handleday_add_sql(format('SELECT 1 AS sign, %1$s FROM new_rows UNION ALL '
                                                   'SELECT -1, %1$s FROM old_rows', cols));
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_handledays_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_handleday;
    EXECUTE reporting_handleday_add_sql(
        'SELECT 1 AS sign, rep_id, lead_type, first_touch_at, dispositioned_at, touches FROM reporting_handlefact');
END $fn$;

CREATE OR REPLACE FUNCTION reporting_handleday_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_handleday;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    [f"CREATE TRIGGER reporting_handleday_{event.lower()} AFTER {event} ON reporting_handlefact REFERENCING {refs} "
     "FOR EACH STATEMENT EXECUTE FUNCTION reporting_handleday_changed();"
     for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                         ("DELETE", "OLD TABLE AS old_rows"))]
    + ["CREATE TRIGGER reporting_handleday_truncate AFTER TRUNCATE ON reporting_handlefact "
       "FOR EACH STATEMENT EXECUTE FUNCTION reporting_handleday_truncated();",
       "SELECT reporting_handledays_rebuild();"])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_handleday_{event} ON reporting_handlefact;"
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_handleday_truncated();", "DROP FUNCTION IF EXISTS reporting_handledays_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_handleday_changed();", "DROP FUNCTION IF EXISTS reporting_handleday_add_sql(text);"])



class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0029_mid_handle_days"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
    ]
