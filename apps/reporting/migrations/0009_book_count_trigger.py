"""The accounts rollup (reporting.BookCount) kept by statement-level triggers on accounts, like
the other rollups (migration 0005): each statement's rows add +1 to their (owner, segment, tier,
status, ICP matched, score band) as they are after it and −1 as they were before, in one grouped
upsert over the transition tables.

Why a trigger and not counts kept by the services: accounts change owner, tier, status,
segment and ICP match through the ownership service, rescoring, the import (COPY-staged INSERT
and UPDATE), the admin, the API, routing's new-company path and raw SQL; a count kept by some of
them would drift from the table. Cost measured on the benchmarks' shapes (2-core machine, see
docs/reports.md "Rollups"): the trigger runs 60-80 ms on a 100,000-row INSERT … SELECT (~3% of
the statement) and 200-370 ms on a 200,000-row UPDATE (~2-3%); an UPDATE that changes no counted
column nets to zero and writes nothing.

The rebuild (`reporting_rollups_rebuild()`) and the TRUNCATE handler are replaced to cover it.
"""

from django.db import migrations

BOOK_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_bookcount_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_bookcount AS r (owner_id, segment, tier, status, matched, band, accounts)
    SELECT x.owner_id, x.segment, x.tier, x.status, x.matched_icp_id IS NOT NULL, least(x.total_score / 10, 9), sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (owner_id, segment, tier, status, matched, band) DO UPDATE SET accounts = r.accounts + EXCLUDED.accounts
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_account_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_bookcount_sql(
            'SELECT 1 AS sign, owner_id, segment, tier, status, matched_icp_id, total_score FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_bookcount_sql(
            'SELECT 1 AS sign, owner_id, segment, tier, status, matched_icp_id, total_score FROM new_rows '
            'UNION ALL SELECT -1, owner_id, segment, tier, status, matched_icp_id, total_score FROM old_rows');
    ELSE
        EXECUTE reporting_bookcount_sql(
            'SELECT -1 AS sign, owner_id, segment, tier, status, matched_icp_id, total_score FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_accounts_account_{event.lower()} ON accounts_account;\n"
    f"CREATE TRIGGER reporting_accounts_account_{event.lower()} AFTER {event} ON accounts_account REFERENCING {refs} "
    "FOR EACH STATEMENT EXECUTE FUNCTION reporting_account_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
) + """
DROP TRIGGER IF EXISTS reporting_accounts_account_truncate ON accounts_account;
CREATE TRIGGER reporting_accounts_account_truncate AFTER TRUNCATE ON accounts_account
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_truncated();
"""


def _truncated(accounts: bool) -> str:
    branch = "ELSIF TG_TABLE_NAME = 'accounts_account' THEN\n        DELETE FROM reporting_bookcount;\n    " if accounts else ""
    return r"""
CREATE OR REPLACE FUNCTION reporting_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM set_config('reporting.rebuilding', 'on', true);
    IF TG_TABLE_NAME = 'people_leadcycle' THEN
        DELETE FROM reporting_cycleday;
    ELSIF TG_TABLE_NAME = 'accounts_activity' THEN
        DELETE FROM reporting_activityhour; DELETE FROM reporting_firsttouch; DELETE FROM reporting_researchday;
    ELSIF TG_TABLE_NAME = 'reporting_firsttouch' THEN
        DELETE FROM reporting_researchday;
    """ + branch + r"""END IF;
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


def _rebuild(accounts: bool) -> str:
    book = ("    DELETE FROM reporting_bookcount;\n"
            "    EXECUTE reporting_bookcount_sql('SELECT 1 AS sign, * FROM accounts_account');\n") if accounts else ""
    return r"""
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
""" + book + r"""    PERFORM set_config('reporting.rebuilding', 'off', true);
END $fn$;
"""


DROP = """
DROP TRIGGER IF EXISTS reporting_accounts_account_insert ON accounts_account;
DROP TRIGGER IF EXISTS reporting_accounts_account_update ON accounts_account;
DROP TRIGGER IF EXISTS reporting_accounts_account_delete ON accounts_account;
DROP TRIGGER IF EXISTS reporting_accounts_account_truncate ON accounts_account;
DROP FUNCTION IF EXISTS reporting_account_changed();
DROP FUNCTION IF EXISTS reporting_bookcount_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0008_book_counts"),
        ("accounts", "0008_alter_activity_type"),
    ]

    operations = [
        migrations.RunSQL(
            "\n".join([BOOK_FUNCTIONS, _truncated(True), _rebuild(True), TRIGGERS,
                       "DELETE FROM reporting_bookcount;",
                       "INSERT INTO reporting_bookcount (owner_id, segment, tier, status, matched, band, accounts) "
                       "SELECT owner_id, segment, tier, status, matched_icp_id IS NOT NULL, least(total_score / 10, 9), count(*) "
                       "FROM accounts_account GROUP BY 1, 2, 3, 4, 5, 6;"]),
            "\n".join([DROP, _truncated(False), _rebuild(False)]),
        ),
    ]
