"""The contact side of account coverage (reporting.AccountContacts: per account, its contacts,
their distinct buying roles and lower-cased personas, and how many have an open lead cycle) kept
by statement-level triggers on contacts and lead cycles. A statement's touched accounts are
recomputed from their contacts (through the contacts' account index): for contacts, the old and
new accounts of the rows whose account, buying role or persona changed; for lead cycles, the
accounts of the contacts whose open cycles changed (state, contact). An account that loses its
last contact loses its row (the page reads no row as no contacts). TRUNCATE recomputes all.
"""

from django.db import migrations

FUNCTIONS = r"""
-- A recompute, not a sum: two transactions writing contacts of one account would each count
-- without the other's uncommitted rows. So each account is locked (transaction advisory lock,
-- ascending) before it is recomputed; the second waits for the first to commit, and its next
-- statements (a volatile SQL function takes a snapshot per statement) see the first's contacts.
CREATE OR REPLACE FUNCTION reporting_accountcontacts_refresh(ids bigint[]) RETURNS void LANGUAGE sql VOLATILE AS $fn$
    SELECT count(pg_advisory_xact_lock(hashtextextended('reporting_accountcontacts', s.id)))
    FROM (SELECT DISTINCT unnest(ids) AS id ORDER BY 1) s;
    DELETE FROM reporting_accountcontacts WHERE account_id = ANY(ids);
    INSERT INTO reporting_accountcontacts AS r (account_id, known, roles, personas, in_funnel)
    SELECT c.account_id, count(*), array_agg(DISTINCT c.buying_role::text), array_agg(DISTINCT lower(c.persona)),
           -- at most one open cycle per contact (lead_cycle_one_open_per_contact): no contact counted twice
           count(lc.id)
    FROM people_contact c LEFT JOIN people_leadcycle lc ON lc.contact_id = c.id AND lc.state <> 'dispositioned'
    WHERE c.account_id = ANY(ids)
    GROUP BY c.account_id ORDER BY c.account_id
    ON CONFLICT (account_id) DO UPDATE SET known = EXCLUDED.known, roles = EXCLUDED.roles, personas = EXCLUDED.personas,
                                           in_funnel = EXCLUDED.in_funnel;
$fn$;

CREATE OR REPLACE FUNCTION reporting_accountcontacts_contact_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text := 'account_id, buying_role, lower(persona)';
    ids bigint[];
    unchanged boolean;
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT account_id FROM new_rows WHERE account_id IS NOT NULL);
    ELSIF TG_OP = 'UPDATE' THEN
        -- as many rows after as before: when none is new, none is gone either (one set difference)
        EXECUTE format('SELECT NOT EXISTS (SELECT %1$s FROM new_rows EXCEPT ALL SELECT %1$s FROM old_rows)', cols) INTO unchanged;
        IF unchanged THEN RETURN NULL; END IF;
        EXECUTE format('SELECT ARRAY(SELECT DISTINCT account_id FROM (
                            (SELECT %1$s FROM new_rows EXCEPT ALL SELECT %1$s FROM old_rows)
                            UNION ALL (SELECT %1$s FROM old_rows EXCEPT ALL SELECT %1$s FROM new_rows)) d
                        WHERE account_id IS NOT NULL)', cols) INTO ids;
    ELSE
        ids := ARRAY(SELECT DISTINCT account_id FROM old_rows WHERE account_id IS NOT NULL);
    END IF;
    IF cardinality(ids) > 0 THEN PERFORM reporting_accountcontacts_refresh(ids); END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_accountcontacts_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    open_cycles text := 'SELECT contact_id FROM %s WHERE state <> ''dispositioned''';
    contacts bigint[];
    ids bigint[];
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT ARRAY(SELECT DISTINCT contact_id FROM (' || open_cycles || ') d)', 'new_rows') INTO contacts;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE 'SELECT ARRAY(SELECT DISTINCT contact_id FROM ((' || format(open_cycles, 'new_rows') || ' EXCEPT ALL '
                || format(open_cycles, 'old_rows') || ') UNION ALL (' || format(open_cycles, 'old_rows') || ' EXCEPT ALL '
                || format(open_cycles, 'new_rows') || ')) d)' INTO contacts;
    ELSE
        EXECUTE format('SELECT ARRAY(SELECT DISTINCT contact_id FROM (' || open_cycles || ') d)', 'old_rows') INTO contacts;
    END IF;
    IF cardinality(contacts) = 0 THEN RETURN NULL; END IF;
    ids := ARRAY(SELECT DISTINCT c.account_id FROM people_contact c
                 WHERE c.id = ANY(contacts) AND c.account_id IS NOT NULL);
    IF cardinality(ids) > 0 THEN PERFORM reporting_accountcontacts_refresh(ids); END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_accountcontacts_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_accountcontacts;
    INSERT INTO reporting_accountcontacts (account_id, known, roles, personas, in_funnel)
    SELECT c.account_id, count(*), array_agg(DISTINCT c.buying_role::text), array_agg(DISTINCT lower(c.persona)), count(lc.id)
    FROM people_contact c LEFT JOIN people_leadcycle lc ON lc.contact_id = c.id AND lc.state <> 'dispositioned'
    WHERE c.account_id IS NOT NULL
    GROUP BY c.account_id;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_accountcontacts_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM reporting_accountcontacts_rebuild();
    RETURN NULL;
END $fn$;
"""

TABLES = {"people_contact": "reporting_accountcontacts_contact_changed",
          "people_leadcycle": "reporting_accountcontacts_cycle_changed"}
REFS = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows"}
TRIGGERS = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_accountcontacts_{table}_{event.lower()} ON {table};\n"
     f"CREATE TRIGGER reporting_accountcontacts_{table}_{event.lower()} AFTER {event} ON {table} "
     f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
     for table, function in TABLES.items() for event, refs in REFS.items()]
    + [f"DROP TRIGGER IF EXISTS reporting_accountcontacts_{table}_truncate ON {table};\n"
       f"CREATE TRIGGER reporting_accountcontacts_{table}_truncate AFTER TRUNCATE ON {table} "
       f"FOR EACH STATEMENT EXECUTE FUNCTION reporting_accountcontacts_truncated();" for table in TABLES]
)

BACK = "\n".join(
    [f"DROP TRIGGER IF EXISTS reporting_accountcontacts_{table}_{event} ON {table};"
     for table in TABLES for event in ("insert", "update", "delete", "truncate")]
    + [f"DROP FUNCTION IF EXISTS {f};" for f in (
        "reporting_accountcontacts_truncated()", "reporting_accountcontacts_rebuild()",
        "reporting_accountcontacts_cycle_changed()", "reporting_accountcontacts_contact_changed()",
        "reporting_accountcontacts_refresh(bigint[])")]
)


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0031_icp_account_contacts"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_accountcontacts_rebuild();"]), BACK),
    ]
