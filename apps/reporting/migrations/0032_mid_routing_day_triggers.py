"""reporting.RoutingDecisionDay and reporting.RoutingSkipDay kept by statement triggers on
routing decisions: +1 per decision (and per element of its `skipped`) as it is after the
statement, −1 as it was before, in the writing transaction, whatever made the write (the
routing services, the admin, imports, raw SQL). A TRUNCATE empties both. Filled here.

reporting_routingdays_rebuild() recomputes both from the decisions (apps.reporting.fairness_reads.REBUILD)."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_routingdays_add(rows text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    -- rows: (sign, decided_at, rep_id, outcome, skipped); two statements, run by EXECUTE in the
    -- trigger function itself (transition tables are visible there only).
    SELECT format($q$
    INSERT INTO reporting_routingdecisionday AS r (day, rep_id, outcome, decisions)
    SELECT (d.decided_at AT TIME ZONE 'UTC')::date, d.rep_id, d.outcome, sum(d.sign)
    FROM (%1$s) d WHERE d.rep_id IS NOT NULL
    GROUP BY 1, 2, 3 HAVING sum(d.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (day, rep_id, outcome) DO UPDATE SET decisions = r.decisions + EXCLUDED.decisions;
    INSERT INTO reporting_routingskipday AS r (day, rep_id, reason, skips)
    SELECT (d.decided_at AT TIME ZONE 'UTC')::date, (e->>'rep_id')::bigint, coalesce(e->>'reason', ''), sum(d.sign)
    FROM (%1$s) d
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(d.skipped) = 'array' THEN d.skipped ELSE '[]' END) e
    WHERE jsonb_typeof(e->'rep_id') = 'number' AND e->>'rep_id' ~ '^-?[0-9]{1,18}$'
    GROUP BY 1, 2, 3 HAVING sum(d.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (day, rep_id, reason) DO UPDATE SET skips = r.skips + EXCLUDED.skips
    $q$, rows)
$fn$;

CREATE OR REPLACE FUNCTION reporting_routingdays_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := 'decided_at, rep_id, outcome, skipped';
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_routingdays_add(format('SELECT 1 AS sign, %s FROM new_rows', cols));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE reporting_routingdays_add(format('SELECT -1 AS sign, %s FROM old_rows', cols));
    ELSE  -- most updates (a decision resolved) change none of the counted columns: nothing to add
        EXECUTE reporting_routingdays_add(format(
            'SELECT 1 AS sign, * FROM (SELECT id, %1$s FROM new_rows EXCEPT SELECT id, %1$s FROM old_rows) n '
            'UNION ALL SELECT -1, * FROM (SELECT id, %1$s FROM old_rows EXCEPT SELECT id, %1$s FROM new_rows) o', cols));
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_routingdays_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_routingdecisionday;
    DELETE FROM reporting_routingskipday;
    EXECUTE reporting_routingdays_add('SELECT 1 AS sign, decided_at, rep_id, outcome, skipped FROM routing_routingdecision');
END $fn$;

CREATE OR REPLACE FUNCTION reporting_routingdays_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_routingdecisionday;
    DELETE FROM reporting_routingskipday;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    [f"CREATE TRIGGER reporting_routingdays_{event.lower()} AFTER {event} ON routing_routingdecision REFERENCING {refs} "
     "FOR EACH STATEMENT EXECUTE FUNCTION reporting_routingdays_changed();"
     for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                         ("DELETE", "OLD TABLE AS old_rows"))]
    + ["CREATE TRIGGER reporting_routingdays_truncate AFTER TRUNCATE ON routing_routingdecision "
       "FOR EACH STATEMENT EXECUTE FUNCTION reporting_routingdays_truncated();",
       "SELECT reporting_routingdays_rebuild();"])

DROP = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_routingdays_{event} ON routing_routingdecision;"
     for event in ("insert", "update", "delete", "truncate")]
    + ["DROP FUNCTION IF EXISTS reporting_routingdays_truncated();", "DROP FUNCTION IF EXISTS reporting_routingdays_rebuild();",
       "DROP FUNCTION IF EXISTS reporting_routingdays_changed();", "DROP FUNCTION IF EXISTS reporting_routingdays_add(text);"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0031_mid_routing_days"),
        ("routing", "0008_merge_fair_books_and_lead_work"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
    ]
