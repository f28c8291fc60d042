"""The market segment counts rollup (reporting.MarketCount) kept by statement-level triggers on
markets_accountmarket (+1 per row as it is after a statement, −1 as it was before, per owner of
the account now, effective segment and overridden or not), and moved to an account's new owner by
the accounts trigger of migration 0022, replaced here to move both rollups from one pass over
the statement's changed owners (a data-modifying WITH). The markets rebuild covers both.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_marketcount_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_marketcount AS r (owner_id, segment, overridden, accounts)
    SELECT x.owner_id, x.segment, x.override_segment <> '', sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (owner_id, segment, overridden) DO UPDATE SET accounts = r.accounts + EXCLUDED.accounts
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_account_market_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := ' a.owner_id, am.segment, am.override_segment FROM %s am LEFT JOIN accounts_account a ON a.id = am.account_id';
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_marketcount_sql(format('SELECT 1 AS sign,' || cols, 'new_rows'));
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_marketcount_sql(format('SELECT 1 AS sign,' || cols, 'new_rows')
                                          || ' UNION ALL ' || format('SELECT -1,' || cols, 'old_rows'));
    ELSE
        EXECUTE reporting_marketcount_sql(format('SELECT -1 AS sign,' || cols, 'old_rows'));
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_segment_change_owner_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    EXECUTE 'WITH m AS MATERIALIZED (SELECT n.id, o.owner_id AS was, n.owner_id AS now FROM old_rows o JOIN new_rows n ON n.id = o.id
                                     WHERE n.owner_id IS DISTINCT FROM o.owner_id),
                  moved_changes AS (' || reporting_segmentchangeday_sql(
        'SELECT s.sign, ch.occurred_at, s.owner_id, ch.from_segment, ch.to_segment, ch.source
         FROM m JOIN markets_marketsegmentchange ch ON ch.account_id = m.id
         CROSS JOIN LATERAL (VALUES (1, m.now), (-1, m.was)) s (sign, owner_id)') || ')
             ' || reporting_marketcount_sql(
        'SELECT s.sign, s.owner_id, am.segment, am.override_segment
         FROM m JOIN markets_accountmarket am ON am.account_id = m.id
         CROSS JOIN LATERAL (VALUES (1, m.now), (-1, m.was)) s (sign, owner_id)');
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_account_markets_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_marketcount;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_markets_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_segmentchangeday;
    EXECUTE reporting_segmentchangeday_sql(
        'SELECT 1 AS sign, ch.occurred_at, a.owner_id, ch.from_segment, ch.to_segment, ch.source
         FROM markets_marketsegmentchange ch LEFT JOIN accounts_account a ON a.id = ch.account_id');
    DELETE FROM reporting_marketcount;
    EXECUTE reporting_marketcount_sql(
        'SELECT 1 AS sign, a.owner_id, am.segment, am.override_segment
         FROM markets_accountmarket am LEFT JOIN accounts_account a ON a.id = am.account_id');
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_markets_accountmarket_{event.lower()} ON markets_accountmarket;\n"
    f"CREATE TRIGGER reporting_markets_accountmarket_{event.lower()} AFTER {event} ON markets_accountmarket "
    f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION reporting_account_market_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
) + """
DROP TRIGGER IF EXISTS reporting_markets_accountmarket_truncate ON markets_accountmarket;
CREATE TRIGGER reporting_markets_accountmarket_truncate AFTER TRUNCATE ON markets_accountmarket
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_account_markets_truncated();
"""

BACK = r"""
DROP TRIGGER IF EXISTS reporting_markets_accountmarket_insert ON markets_accountmarket;
DROP TRIGGER IF EXISTS reporting_markets_accountmarket_update ON markets_accountmarket;
DROP TRIGGER IF EXISTS reporting_markets_accountmarket_delete ON markets_accountmarket;
DROP TRIGGER IF EXISTS reporting_markets_accountmarket_truncate ON markets_accountmarket;
DROP FUNCTION IF EXISTS reporting_account_markets_truncated();
DROP FUNCTION IF EXISTS reporting_account_market_changed();
CREATE OR REPLACE FUNCTION reporting_segment_change_owner_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    EXECUTE reporting_segmentchangeday_sql(
        'SELECT s.sign, ch.occurred_at, s.owner_id, ch.from_segment, ch.to_segment, ch.source
         FROM (SELECT n.id, o.owner_id AS was, n.owner_id AS now FROM old_rows o JOIN new_rows n ON n.id = o.id
               WHERE n.owner_id IS DISTINCT FROM o.owner_id) m
         JOIN markets_marketsegmentchange ch ON ch.account_id = m.id
         CROSS JOIN LATERAL (VALUES (1, m.now), (-1, m.was)) s (sign, owner_id)');
    RETURN NULL;
END $fn$;
CREATE OR REPLACE FUNCTION reporting_markets_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_segmentchangeday;
    EXECUTE reporting_segmentchangeday_sql(
        'SELECT 1 AS sign, ch.occurred_at, a.owner_id, ch.from_segment, ch.to_segment, ch.source
         FROM markets_marketsegmentchange ch LEFT JOIN accounts_account a ON a.id = ch.account_id');
END $fn$;
DROP FUNCTION IF EXISTS reporting_marketcount_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0026_market_counts"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_markets_rebuild();"]), BACK),
    ]
