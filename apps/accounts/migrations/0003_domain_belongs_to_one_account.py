"""A normalized domain belongs to at most one account, across primary domains and aliases.

A unique index cannot span two tables, so triggers keep a registry of every domain in use
(`accounts_domain_registry`, primary key = domain) in step with both tables. Its primary key
does the enforcing: concurrent inserts of the same domain wait on each other like any unique
index, and bulk loads (COPY of 100,000 accounts) need no per-row locks.
"""

from django.db import migrations, models

SQL = """
ALTER TABLE accounts_domain_registry ADD CONSTRAINT domain_registry_kind CHECK (kind IN ('domain', 'alias'));

CREATE OR REPLACE FUNCTION accounts_domain_registry_sync() RETURNS trigger AS $$
DECLARE
    row_kind text := CASE WHEN TG_TABLE_NAME = 'accounts_account' THEN 'domain' ELSE 'alias' END;
    owner_id bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.domain IS NOT NULL THEN
        DELETE FROM accounts_domain_registry r WHERE r.domain = OLD.domain AND r.kind = row_kind;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.domain IS NOT NULL THEN
        -- Fields are read through to_jsonb: PL/pgSQL rejects NEW.account_id on the
        -- account table even in a branch that does not run.
        owner_id := CASE WHEN row_kind = 'domain' THEN (to_jsonb(NEW) ->> 'id')::bigint
                         ELSE (to_jsonb(NEW) ->> 'account_id')::bigint END;
        BEGIN
            INSERT INTO accounts_domain_registry (domain, account_id, kind)
            VALUES (NEW.domain, owner_id, row_kind);
        EXCEPTION WHEN unique_violation THEN
            RAISE EXCEPTION 'domain % already belongs to an account', NEW.domain
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'domain_belongs_to_one_account';
        END;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER account_domain_registry
    AFTER INSERT OR DELETE OR UPDATE OF domain ON accounts_account
    FOR EACH ROW EXECUTE FUNCTION accounts_domain_registry_sync();
CREATE TRIGGER alias_domain_registry
    AFTER INSERT OR DELETE OR UPDATE OF domain ON accounts_domainalias
    FOR EACH ROW EXECUTE FUNCTION accounts_domain_registry_sync();
"""

REVERSE = """
DROP TRIGGER IF EXISTS account_domain_registry ON accounts_account;
DROP TRIGGER IF EXISTS alias_domain_registry ON accounts_domainalias;
DROP FUNCTION IF EXISTS accounts_domain_registry_sync();
ALTER TABLE accounts_domain_registry DROP CONSTRAINT IF EXISTS domain_registry_kind;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [
        migrations.CreateModel(
            name="DomainRegistry",
            fields=[
                ("domain", models.CharField(max_length=253, primary_key=True, serialize=False)),
                ("account_id", models.BigIntegerField()),
                ("kind", models.CharField(max_length=10)),
            ],
            options={"db_table": "accounts_domain_registry", "verbose_name_plural": "domain registry"},
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
