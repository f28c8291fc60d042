"""The books rollup (reporting.BookCount) append-only: the account trigger adds each statement's
signed counts as new rows instead of upserting one row per key, and reporting_bookcount_compact()
(the books_compact job, every 10 minutes, and every rebuild) folds a key's rows back into one.

Why: the key is (owner, segment, tier, status, ICP matched, score band), so the pool has one row
per kind of account, and every claim, return and distribution moved one of them; with an upsert
each such transaction held that row locked until it committed and the next claim of the same
kind waited (under the load benchmark the trigger's mean time was 15 ms, most of it that wait).
Every reader already sums `accounts` per group, so several rows a key read the same."""

import importlib

from django.db import migrations, models

GROUP = "owner_id, segment, tier, status, matched, band"


def _upserting() -> str:
    """The trigger's statement as migration 0009 wrote it: one row a key, upserted."""
    fast_paths = importlib.import_module("apps.reporting.migrations.0040_trigger_fast_paths")
    return fast_paths._definition("0009_book_count_trigger", "BOOK_FUNCTIONS", "reporting_bookcount_sql")


UPSERT = ("INSERT INTO reporting_bookcount AS r", " ORDER BY 1, 2, 3, 4, 5, 6\n"
          "    ON CONFLICT (owner_id, segment, tier, status, matched, band) DO UPDATE SET accounts = r.accounts + EXCLUDED.accounts")


def _appending() -> str:
    upserting = _upserting()
    assert all(part in upserting for part in UPSERT)
    return upserting.replace(UPSERT[0], "INSERT INTO reporting_bookcount").replace(UPSERT[1], "")


# A key's rows folded into one: the compaction, and the way back to a unique key. Rows added
# while it runs are not in its snapshot: they stay, and the sums with them.
FOLD = (f"gone AS (DELETE FROM reporting_bookcount RETURNING {GROUP}, accounts), "
        f"kept AS (INSERT INTO reporting_bookcount ({GROUP}, accounts) SELECT {GROUP}, sum(accounts) FROM gone "
        f"GROUP BY {GROUP} HAVING sum(accounts) <> 0 RETURNING 1)")

FUNCTIONS = _appending() + f"""

CREATE OR REPLACE FUNCTION reporting_bookcount_compact() RETURNS integer LANGUAGE sql VOLATILE AS $fn$
    WITH {FOLD} SELECT (SELECT count(*) FROM gone)::int - (SELECT count(*) FROM kept)::int
$fn$;
"""

OLD_FUNCTIONS = "DROP FUNCTION IF EXISTS reporting_bookcount_compact();\n" + _upserting()


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0040_trigger_fast_paths'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='bookcount',
            name='reporting_bookcount_key',
        ),
        migrations.RunSQL(migrations.RunSQL.noop, f"WITH {FOLD} SELECT 1;"),  # before the key is unique again
        migrations.AddIndex(
            model_name='bookcount',
            index=models.Index(fields=['owner_id', 'segment', 'tier', 'status', 'matched', 'band'], name='reporting_bookcount_keys'),
        ),
        migrations.RunSQL(FUNCTIONS, OLD_FUNCTIONS),
    ]
