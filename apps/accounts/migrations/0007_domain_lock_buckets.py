"""Bound the advisory locks the domain triggers take in one transaction.

0003 locks each new domain with its own transaction-level advisory lock. A CSV import
inserts its accounts in one transaction (all-or-nothing), and PostgreSQL's lock table holds
only max_locks_per_transaction × max_connections entries (6,400 by default): an import of
~13,000 new accounts failed with "out of shared memory". The lock now goes to one of 512
buckets of the domain's hash: two transactions adding the same domain still serialise
(same bucket), a transaction never holds more than 512 of these locks, and the price is
that unrelated domains in the same bucket occasionally wait for each other's commit.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION accounts_domain_is_free() RETURNS trigger AS $$
BEGIN
    IF NEW.domain IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM {lock};
    IF TG_TABLE_NAME = 'accounts_account' THEN
        IF EXISTS (SELECT 1 FROM accounts_domainalias WHERE domain = NEW.domain AND account_id <> NEW.id) THEN
            RAISE EXCEPTION 'domain % already belongs to another account as an alias', NEW.domain
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'account_domain_not_an_alias';
        END IF;
        IF EXISTS (SELECT 1 FROM accounts_domainalias WHERE domain = NEW.domain AND account_id = NEW.id) THEN
            RAISE EXCEPTION 'domain % is already an alias of this account', NEW.domain
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'account_domain_not_an_alias';
        END IF;
    ELSE
        IF EXISTS (SELECT 1 FROM accounts_account WHERE domain = NEW.domain) THEN
            RAISE EXCEPTION 'domain % already belongs to an account', NEW.domain
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'alias_domain_not_an_account_domain';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

BUCKETED = FUNCTION.replace("{lock}", "pg_advisory_xact_lock(1936879476, abs(hashtext(NEW.domain) % 512))")
ORIGINAL = FUNCTION.replace("{lock}", "pg_advisory_xact_lock(hashtext('sdrops-domain:' || NEW.domain))")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_import_record_permissions")]
    operations = [migrations.RunSQL(BUCKETED, ORIGINAL)]
