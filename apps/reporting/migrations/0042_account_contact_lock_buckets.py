"""The account-contact refresh took one advisory lock per account it recomputed, so a statement
writing the contacts of more accounts than PostgreSQL's lock table holds (max_locks_per_transaction
× max_connections: 6,400 by default) failed with "out of shared memory" — the bench organisation's
contact insert did, at 11,500 accounts, and so would a large contacts import. The locks now go to
256 buckets of account ids (taken in ascending order, as before, so two writers never wait for each
other in a cycle): two transactions writing contacts of accounts in one bucket take turns, as two
writing one account always did; a bulk statement holds at most 256 locks."""

import importlib

from django.db import migrations


def _fast_paths():
    return importlib.import_module("apps.reporting.migrations.0040_trigger_fast_paths")


PER_ACCOUNT = ("SELECT count(pg_advisory_xact_lock(hashtextextended('reporting_accountcontacts', s.id)))\n"
               "    FROM (SELECT DISTINCT unnest(ids) AS id ORDER BY 1) s;")
PER_BUCKET = ("SELECT count(pg_advisory_xact_lock(hashtext('reporting_accountcontacts'), b.bucket))\n"
              "    FROM (SELECT DISTINCT (id % 256)::int AS bucket FROM unnest(ids) AS id ORDER BY 1) b;")


def _refresh(locks: str) -> str:
    """Migration 0032's refresh with `locks`, as migration 0040 turned it into PL/pgSQL."""
    m = _fast_paths()
    written = m._definition("0032_icp_account_contact_triggers", "FUNCTIONS", "reporting_accountcontacts_refresh")
    assert PER_ACCOUNT in written
    return m._as_plpgsql(written.replace(PER_ACCOUNT, locks))


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0041_books_append_only"),
    ]

    operations = [
        migrations.RunSQL(_refresh(PER_BUCKET), _refresh(PER_ACCOUNT)),
    ]
