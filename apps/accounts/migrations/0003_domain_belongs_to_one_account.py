"""A normalized domain belongs to at most one account, across primary domains and aliases.

Two unique indexes cannot span two tables, so triggers check the other table. They take a
transaction-level advisory lock on the domain first, so two transactions adding the same
domain to the two tables at once are serialised instead of both passing the check.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION accounts_domain_is_free() RETURNS trigger AS $$
BEGIN
    IF NEW.domain IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('sdrops-domain:' || NEW.domain));
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

CREATE TRIGGER account_domain_is_free
    BEFORE INSERT OR UPDATE OF domain ON accounts_account
    FOR EACH ROW EXECUTE FUNCTION accounts_domain_is_free();
CREATE TRIGGER alias_domain_is_free
    BEFORE INSERT OR UPDATE OF domain ON accounts_domainalias
    FOR EACH ROW EXECUTE FUNCTION accounts_domain_is_free();
"""

REVERSE = """
DROP TRIGGER IF EXISTS account_domain_is_free ON accounts_account;
DROP TRIGGER IF EXISTS alias_domain_is_free ON accounts_domainalias;
DROP FUNCTION IF EXISTS accounts_domain_is_free();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
