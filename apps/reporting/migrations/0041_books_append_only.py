"""The books rollup (reporting.BookCount) append-only: the account trigger adds each statement's
signed counts as new rows instead of upserting one row per key, and reporting_bookcount_compact()
(the books_compact job, every 10 minutes, and every rebuild) folds a key's rows back into one.

Why: the key is (owner, segment, tier, status, ICP matched, score band), so the pool has one row
per kind of account, and every claim, return and distribution moved one of them; with an upsert
each such transaction held that row locked until it committed and the next claim of the same
kind waited (under the load benchmark the trigger's mean time was 15 ms, most of it that wait).
Every reader already sums `accounts` per group, so several rows a key read the same."""

from django.db import migrations, models

GROUP = "owner_id, segment, tier, status, matched, band"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_bookcount_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_bookcount (owner_id, segment, tier, status, matched, band, accounts)
    SELECT x.owner_id, x.segment, x.tier, x.status, x.matched_icp_id IS NOT NULL, least(x.total_score / 10, 9), sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.sign) <> 0
$q$, src)
$fn$;

-- Rows added while this runs are not in its snapshot: they stay, and the sums with them.
CREATE OR REPLACE FUNCTION reporting_bookcount_compact() RETURNS integer LANGUAGE sql VOLATILE AS $fn$
    WITH gone AS (DELETE FROM reporting_bookcount RETURNING """ + GROUP + r""", accounts),
    kept AS (INSERT INTO reporting_bookcount (""" + GROUP + r""", accounts)
             SELECT """ + GROUP + r""", sum(accounts) FROM gone GROUP BY """ + GROUP + r""" HAVING sum(accounts) <> 0
             RETURNING 1)
    SELECT (SELECT count(*) FROM gone)::int - (SELECT count(*) FROM kept)::int
$fn$;
"""

OLD_FUNCTIONS = r"""
DROP FUNCTION IF EXISTS reporting_bookcount_compact();
CREATE OR REPLACE FUNCTION reporting_bookcount_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_bookcount AS r (owner_id, segment, tier, status, matched, band, accounts)
    SELECT x.owner_id, x.segment, x.tier, x.status, x.matched_icp_id IS NOT NULL, least(x.total_score / 10, 9), sum(x.sign)
    FROM (%s) x
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.sign) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (owner_id, segment, tier, status, matched, band) DO UPDATE SET accounts = r.accounts + EXCLUDED.accounts
$q$, src)
$fn$;
"""

# Going back: one row a key again before the unique constraint returns.
FOLD = ("WITH gone AS (DELETE FROM reporting_bookcount RETURNING " + GROUP + ", accounts) "
        "INSERT INTO reporting_bookcount (" + GROUP + ", accounts) SELECT " + GROUP + ", sum(accounts) FROM gone "
        "GROUP BY " + GROUP + " HAVING sum(accounts) <> 0;")


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0040_trigger_fast_paths'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='bookcount',
            name='reporting_bookcount_key',
        ),
        migrations.RunSQL(migrations.RunSQL.noop, FOLD),
        migrations.AddIndex(
            model_name='bookcount',
            index=models.Index(fields=['owner_id', 'segment', 'tier', 'status', 'matched', 'band'], name='reporting_bookcount_keys'),
        ),
        migrations.RunSQL(FUNCTIONS, OLD_FUNCTIONS),
    ]
