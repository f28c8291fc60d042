"""The funnel by tier rollup (reporting.TierCycleDay) kept by statement-level triggers on the
three tables its key comes from, so ICP coverage's conversion by tier reads days × reps × tiers
rows instead of joining every cycle of the window to its contact and account:

- lead cycles: +1 per row as it is after a statement, −1 as it was, over the columns the rollup
  reads (hashed set differences of the transition tables: an UPDATE that changes none of them,
  e.g. a touch, writes nothing), each joined to its contact's account now;
- contacts: a contact whose account changed (or who came or went) moves its cycles from the old
  account's tier and segment to the new one's;
- accounts: an account whose tier or segment changed (or which came or went: its contacts'
  cycles then have no account, tier and segment null) moves its contacts' cycles.

Each statement sees the other two tables unchanged, so the sum of the differences is the rollup
of the state after it. TRUNCATE of any of the three recomputes it.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_tiercycleday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_tiercycleday AS r (day, rep_id, lead_type, tier, segment, assigned, qualified, opp)
    SELECT (x.assigned_at AT TIME ZONE 'UTC')::date, x.rep_id, x.lead_type, x.tier, x.segment,
           sum(x.sign), sum(x.sign * x.is_sql::int), sum(x.sign * x.is_opp::int)
    FROM (%s) x
    WHERE x.exception_at IS NULL  -- exceptions (issue 22) are in no number
    GROUP BY 1, 2, 3, 4, 5
    HAVING ROW(sum(x.sign), sum(x.sign * x.is_sql::int), sum(x.sign * x.is_opp::int)) <> ROW(0, 0, 0)
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, rep_id, lead_type, tier, segment) DO UPDATE SET
        assigned = r.assigned + EXCLUDED.assigned, qualified = r.qualified + EXCLUDED.qualified, opp = r.opp + EXCLUDED.opp
$q$, src)
$fn$;

-- Cycles (sign, assigned_at, rep_id, lead_type, exception_at, is_sql, is_opp, contact_id) from
-- `src`, with the tier and segment of their contact's account now.
CREATE OR REPLACE FUNCTION reporting_tiercycle_tiered(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    SELECT d.sign, d.assigned_at, d.rep_id, d.lead_type, d.exception_at, d.is_sql, d.is_opp, acc.tier, acc.segment
    FROM (%s) d JOIN people_contact ct ON ct.id = d.contact_id LEFT JOIN accounts_account acc ON acc.id = ct.account_id
$q$, src)
$fn$;

-- Each trigger first collects what moved into arrays (nothing: it stops there, after one hashed
-- set difference of the transition tables), then joins them through unnest(), whose row count
-- the planner knows: a few moved rows are index lookups, not scans of contacts and accounts.
CREATE OR REPLACE FUNCTION reporting_tiercycle_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := 'assigned_at, rep_id, lead_type, is_sql, is_opp, contact_id';
    counted text := ' FROM %s WHERE exception_at IS NULL';  -- exceptions (issue 22) are in no number
    src text;
    signs int[]; days timestamptz[]; reps bigint[]; types text[]; sqls bool[]; opps bool[]; contacts bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        src := 'SELECT 1 AS sign, ' || cols || format(counted, 'new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        src := format('SELECT 1 AS sign, * FROM (SELECT %1$s%2$s EXCEPT ALL SELECT %1$s%3$s) n
                       UNION ALL SELECT -1, * FROM (SELECT %1$s%3$s EXCEPT ALL SELECT %1$s%2$s) o',
                      cols, format(counted, 'new_rows'), format(counted, 'old_rows'));
    ELSE
        src := 'SELECT -1 AS sign, ' || cols || format(counted, 'old_rows');
    END IF;
    EXECUTE 'SELECT array_agg(sign), array_agg(assigned_at), array_agg(rep_id), array_agg(lead_type::text),
                    array_agg(is_sql), array_agg(is_opp), array_agg(contact_id) FROM (' || src || ') d'
        INTO signs, days, reps, types, sqls, opps, contacts;
    IF signs IS NULL THEN RETURN NULL; END IF;
    EXECUTE reporting_tiercycleday_sql(reporting_tiercycle_tiered(
        'SELECT d.*, NULL::timestamptz AS exception_at
         FROM unnest($1, $2, $3, $4, $5, $6, $7) d (sign, assigned_at, rep_id, lead_type, is_sql, is_opp, contact_id)'))
        USING signs, days, reps, types, sqls, opps, contacts;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_tiercycle_contact_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    moved text;
    signs int[]; ids bigint[]; accounts bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        moved := 'SELECT 1 AS sign, id, account_id FROM new_rows';
    ELSIF TG_OP = 'UPDATE' THEN
        -- as many rows after as before: when none is new, none is gone either (one set difference)
        IF NOT EXISTS (SELECT id, account_id FROM new_rows EXCEPT ALL SELECT id, account_id FROM old_rows) THEN RETURN NULL; END IF;
        moved := 'SELECT 1 AS sign, * FROM (SELECT id, account_id FROM new_rows EXCEPT ALL SELECT id, account_id FROM old_rows) n
                  UNION ALL SELECT -1, * FROM (SELECT id, account_id FROM old_rows EXCEPT ALL SELECT id, account_id FROM new_rows) o';
    ELSE
        moved := 'SELECT -1 AS sign, id, account_id FROM old_rows';
    END IF;
    EXECUTE 'SELECT array_agg(sign), array_agg(id), array_agg(account_id) FROM (' || moved || ') m' INTO signs, ids, accounts;
    IF signs IS NULL THEN RETURN NULL; END IF;
    EXECUTE reporting_tiercycleday_sql(
        'SELECT m.sign, c.assigned_at, c.rep_id, c.lead_type, c.exception_at, c.is_sql, c.is_opp, acc.tier, acc.segment
         FROM unnest($1, $2, $3) m (sign, id, account_id) JOIN people_leadcycle c ON c.contact_id = m.id
         LEFT JOIN accounts_account acc ON acc.id = m.account_id')
        USING signs, ids, accounts;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_tiercycle_account_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    moved text;
    ids bigint[]; signs int[]; tiers text[]; segments text[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    -- (account id, sign, tier, segment): an account absent before or after counts as tier and
    -- segment null, as the page's LEFT JOIN sees a contact whose account is gone.
    IF TG_OP = 'INSERT' THEN
        moved := 'SELECT n.id, s.sign, s.tier, s.segment FROM new_rows n
                  CROSS JOIN LATERAL (VALUES (1, n.tier::text, n.segment::text), (-1, NULL, NULL)) s (sign, tier, segment)';
    ELSIF TG_OP = 'UPDATE' THEN
        moved := 'SELECT coalesce(n.id, o.id) AS id, s.sign, s.tier, s.segment
                  FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
                  CROSS JOIN LATERAL (VALUES (1, n.tier::text, n.segment::text), (-1, o.tier::text, o.segment::text)) s (sign, tier, segment)
                  WHERE (o.id IS NULL OR n.id IS NULL OR (n.tier, n.segment) IS DISTINCT FROM (o.tier, o.segment))';
    ELSE
        moved := 'SELECT o.id, s.sign, s.tier, s.segment FROM old_rows o
                  CROSS JOIN LATERAL (VALUES (1, NULL, NULL), (-1, o.tier::text, o.segment::text)) s (sign, tier, segment)';
    END IF;
    EXECUTE 'SELECT array_agg(id), array_agg(sign), array_agg(tier), array_agg(segment) FROM (' || moved || ') m'
        INTO ids, signs, tiers, segments;
    IF ids IS NULL THEN RETURN NULL; END IF;
    EXECUTE reporting_tiercycleday_sql(
        'SELECT m.sign, c.assigned_at, c.rep_id, c.lead_type, c.exception_at, c.is_sql, c.is_opp, m.tier, m.segment
         FROM unnest($1, $2, $3, $4) m (id, sign, tier, segment)
         JOIN people_contact ct ON ct.account_id = m.id JOIN people_leadcycle c ON c.contact_id = ct.id')
        USING ids, signs, tiers, segments;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_tiercycleday_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_tiercycleday;
    EXECUTE reporting_tiercycleday_sql(reporting_tiercycle_tiered(
        'SELECT 1 AS sign, assigned_at, rep_id, lead_type, exception_at, is_sql, is_opp, contact_id FROM people_leadcycle'));
END $fn$;

CREATE OR REPLACE FUNCTION reporting_tiercycle_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_tiercycleday_rebuild();
    RETURN NULL;
END $fn$;
"""

TABLES = {"people_leadcycle": "reporting_tiercycle_cycle_changed", "people_contact": "reporting_tiercycle_contact_changed",
          "accounts_account": "reporting_tiercycle_account_changed"}
REFS = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows"}
TRIGGERS = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_tiercycle_{table}_{event.lower()} ON {table};\n"
     f"CREATE TRIGGER reporting_tiercycle_{table}_{event.lower()} AFTER {event} ON {table} "
     f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
     for table, function in TABLES.items() for event, refs in REFS.items()]
    + [f"DROP TRIGGER IF EXISTS reporting_tiercycle_{table}_truncate ON {table};\n"
       f"CREATE TRIGGER reporting_tiercycle_{table}_truncate AFTER TRUNCATE ON {table} "
       f"FOR EACH STATEMENT EXECUTE FUNCTION reporting_tiercycle_truncated();" for table in TABLES]
)

BACK = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_tiercycle_{table}_{event} ON {table};"
     for table in TABLES for event in ("insert", "update", "delete", "truncate")]
    + [f"DROP FUNCTION IF EXISTS {f};" for f in (
        "reporting_tiercycle_truncated()", "reporting_tiercycleday_rebuild()", "reporting_tiercycle_account_changed()",
        "reporting_tiercycle_contact_changed()", "reporting_tiercycle_cycle_changed()", "reporting_tiercycle_tiered(text)",
        "reporting_tiercycleday_sql(text)")]
)


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0029_icp_tier_cycle_days"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_tiercycleday_rebuild();"]), BACK),
    ]
