"""Open lead cycles now per rep and lead type (reporting.OpenLeadCount), kept by statement-level
triggers on people_leadcycle like the other rollups: each statement's rows add +1 to their (rep,
lead type) as they are after it when open (not dispositioned) and not marked an exception, and
−1 as they were before, in one grouped upsert over the transition tables.

Why: the scorecard's and the balance page's "open inbound leads" counted the open cycles of
every rep per request (the partial index lead_cycle_open_by_rep, then a heap visit per cycle for
its lead type and exception mark), which grows with the organisation's open book; the rollup is
one row per (rep, lead type). Cycles change state, rep and exception mark through the lead
services, routing, SLA re-assignment, imports, the admin and raw SQL: only a trigger sees them all.

Its rebuild is reporting_openleads_rebuild() (apps.reporting.lead_reads.REBUILD).
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_openleadcount_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_openleadcount AS r (rep_id, lead_type, open)
    SELECT x.rep_id, x.lead_type, sum(x.sign)
    FROM (%s) x
    WHERE x.state <> 'dispositioned' AND x.exception_at IS NULL
    GROUP BY 1, 2 HAVING sum(x.sign) <> 0 ORDER BY 1, 2
    ON CONFLICT (rep_id, lead_type) DO UPDATE SET open = r.open + EXCLUDED.open
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_open_lead_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := ' rep_id, lead_type, state, exception_at FROM ';
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_openleadcount_sql('SELECT 1 AS sign,' || cols || 'new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_openleadcount_sql('SELECT 1 AS sign,' || cols || 'new_rows UNION ALL SELECT -1,' || cols || 'old_rows');
    ELSE
        EXECUTE reporting_openleadcount_sql('SELECT -1 AS sign,' || cols || 'old_rows');
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_open_leads_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_openleadcount;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_openleads_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_openleadcount;
    EXECUTE reporting_openleadcount_sql('SELECT 1 AS sign, rep_id, lead_type, state, exception_at FROM people_leadcycle');
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_openleads_{event.lower()} ON people_leadcycle;\n"
    f"CREATE TRIGGER reporting_openleads_{event.lower()} AFTER {event} ON people_leadcycle REFERENCING {refs} "
    "FOR EACH STATEMENT EXECUTE FUNCTION reporting_open_lead_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
) + """
DROP TRIGGER IF EXISTS reporting_openleads_truncate ON people_leadcycle;
CREATE TRIGGER reporting_openleads_truncate AFTER TRUNCATE ON people_leadcycle
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_open_leads_truncated();
"""

BACK = """
DROP TRIGGER IF EXISTS reporting_openleads_insert ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_openleads_update ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_openleads_delete ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_openleads_truncate ON people_leadcycle;
DROP FUNCTION IF EXISTS reporting_openleads_rebuild();
DROP FUNCTION IF EXISTS reporting_open_leads_truncated();
DROP FUNCTION IF EXISTS reporting_open_lead_changed();
DROP FUNCTION IF EXISTS reporting_openleadcount_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0029_lresp_open_lead_counts"),
        ("leads", "0007_merge_fair_books_and_lead_work"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_openleads_rebuild();"]), BACK),
    ]
