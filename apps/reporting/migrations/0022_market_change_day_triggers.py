"""The market segment changes rollup (reporting.SegmentChangeDay) kept by statement-level
triggers, like the other rollups (migration 0005): +1 per change as it is after a statement, −1
as it was before, per (UTC day, the account's owner now, from, to, made by the rules).

The owner is the account's current one (the page scopes by who owns the account now), so a
second trigger on accounts moves an account's changes from its old owner to its new one when
a statement changes the owner (joined through the changes' account index; an UPDATE that
changes no owner moves nothing). Own rebuild function (`reporting_markets_rebuild()`, called by
apps.reporting.rollups after `reporting_rollups_rebuild()`) and own TRUNCATE handler, so the
shared functions stay as they are.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_segmentchangeday_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_segmentchangeday AS r (day, owner_id, from_segment, to_segment, by_rules, moves)
    SELECT (x.occurred_at AT TIME ZONE 'UTC')::date, x.owner_id, x.from_segment, x.to_segment, x.source = 'rules', sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, owner_id, from_segment, to_segment, by_rules) DO UPDATE SET moves = r.moves + EXCLUDED.moves
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_segment_change_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := ' ch.occurred_at, a.owner_id, ch.from_segment, ch.to_segment, ch.source FROM %s ch '
                 'LEFT JOIN accounts_account a ON a.id = ch.account_id';
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_segmentchangeday_sql(format('SELECT 1 AS sign,' || cols, 'new_rows'));
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_segmentchangeday_sql(format('SELECT 1 AS sign,' || cols, 'new_rows')
                                               || ' UNION ALL ' || format('SELECT -1,' || cols, 'old_rows'));
    ELSE
        EXECUTE reporting_segmentchangeday_sql(format('SELECT -1 AS sign,' || cols, 'old_rows'));
    END IF;
    RETURN NULL;
END $fn$;

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

CREATE OR REPLACE FUNCTION reporting_segment_changes_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_segmentchangeday;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_markets_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_segmentchangeday;
    EXECUTE reporting_segmentchangeday_sql(
        'SELECT 1 AS sign, ch.occurred_at, a.owner_id, ch.from_segment, ch.to_segment, ch.source
         FROM markets_marketsegmentchange ch LEFT JOIN accounts_account a ON a.id = ch.account_id');
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_markets_change_{event.lower()} ON markets_marketsegmentchange;\n"
    f"CREATE TRIGGER reporting_markets_change_{event.lower()} AFTER {event} ON markets_marketsegmentchange "
    f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION reporting_segment_change_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
) + """
DROP TRIGGER IF EXISTS reporting_markets_change_truncate ON markets_marketsegmentchange;
CREATE TRIGGER reporting_markets_change_truncate AFTER TRUNCATE ON markets_marketsegmentchange
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_segment_changes_truncated();
DROP TRIGGER IF EXISTS reporting_accounts_account_segment_changes ON accounts_account;
CREATE TRIGGER reporting_accounts_account_segment_changes AFTER UPDATE ON accounts_account
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_segment_change_owner_moved();
"""

DROP = """
DROP TRIGGER IF EXISTS reporting_accounts_account_segment_changes ON accounts_account;
DROP TRIGGER IF EXISTS reporting_markets_change_insert ON markets_marketsegmentchange;
DROP TRIGGER IF EXISTS reporting_markets_change_update ON markets_marketsegmentchange;
DROP TRIGGER IF EXISTS reporting_markets_change_delete ON markets_marketsegmentchange;
DROP TRIGGER IF EXISTS reporting_markets_change_truncate ON markets_marketsegmentchange;
DROP FUNCTION IF EXISTS reporting_markets_rebuild();
DROP FUNCTION IF EXISTS reporting_segment_changes_truncated();
DROP FUNCTION IF EXISTS reporting_segment_change_owner_moved();
DROP FUNCTION IF EXISTS reporting_segment_change_changed();
DROP FUNCTION IF EXISTS reporting_segmentchangeday_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0021_market_change_days"),
        ("markets", "0003_settings_row_and_roles"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_markets_rebuild();"]), DROP),
    ]
