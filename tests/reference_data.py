"""A cheap reset of the test database after each transactional test.

Django ends a transactional test (browser, concurrency) by flushing every table and then
emitting post_migrate, whose handlers re-create content types, permissions, role groups,
lifecycle defaults and schedules: 9–14 s per test on a busy 2-core machine. Instead the
root conftest takes a snapshot of every non-empty table once per session, right after the
database setup (migrations, post_migrate and the data-migration defaults have run), into a
schema outside the search path; each transactional test then ends with one transaction
that empties the same tables Django's flush empties and copies the snapshot back.

The result is the state the first transactional test of the session starts from, with the
same primary keys (so Django's content-type cache stays right), in well under a second.
The snapshot is retaken every session, so reference data a code change alters (a new
permission grant, a schedule's timing) is never restored stale.
"""

from __future__ import annotations

from django.db import connections, transaction

SCHEMA = "sdrops_test_reference"
# Exists while a transactional test runs: a run killed inside one leaves it behind.
DIRTY = f"{SCHEMA}._dirty"
# alias -> the INSERT … SELECT statements. Not kept on the connection object: Django's
# connections are per context, and Playwright's greenlets give a test another one.
_restore_sql: dict[str, list[str]] = {}


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _is_superuser(cursor) -> bool:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    return bool(cursor.fetchone()[0])


def _copy_sql(connection, cursor, table: str, source: str, target: str) -> str:
    """INSERT … SELECT of the table's writable columns (generated columns are left out)."""
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        [f"public.{_quote(connection, table)}"],
    )
    columns = ", ".join(_quote(connection, row[0]) for row in cursor.fetchall())
    return (
        f"INSERT INTO {target}.{_quote(connection, table)} ({columns}) "
        f"SELECT {columns} FROM {source}.{_quote(connection, table)}"
    )


def snapshot_take(using: str = "default") -> None:
    """Copy every non-empty Django table into SCHEMA (replacing an older snapshot)."""
    connection = connections[using]
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        for table in sorted(tables):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM public.{_quote(connection, table)})")
            if cursor.fetchone()[0]:
                cursor.execute(
                    f"CREATE TABLE {SCHEMA}.{_quote(connection, table)} AS "
                    f"SELECT * FROM public.{_quote(connection, table)}"
                )
    _restore_statements_load(using)


def _restore_statements_load(using: str) -> bool:
    """The INSERT … SELECT for each table of the stored snapshot; False when there is none."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name <> '_dirty' ORDER BY table_name",
            [SCHEMA],
        )
        tables = [row[0] for row in cursor.fetchall()]
        if not tables:
            return False
        _restore_sql[using] = [_copy_sql(connection, cursor, t, SCHEMA, "public") for t in tables]
    return True


def snapshot_restore(using: str = "default") -> None:
    """Empty the tables Django's flush would empty and put the snapshot back, in one
    transaction. DELETE of the few non-empty tables, not TRUNCATE: truncating ~80 tables
    makes new files for each and its indexes (over a second on a busy machine); this takes
    some 50 ms. Foreign keys are deferred to the commit, so the order does not matter. As
    superuser (the embedded server) triggers stay quiet meanwhile: no audit or registry
    trigger fires for rows that are only being put back."""
    connection = connections[using]
    quote = connection.ops.quote_name
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if _is_superuser(cursor):
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(t)})" for t in tables), tables
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f"DELETE FROM {quote(table)}")
        for statement in _restore_sql[using]:
            cursor.execute(statement)
        cursor.execute(f"DROP TABLE IF EXISTS {DIRTY}")


def has_snapshot(using: str = "default") -> bool:
    return using in _restore_sql


def mark_dirty(using: str = "default") -> None:
    """Say (in the database, so a killed run leaves it behind) that a transactional test
    is writing rows that only the restore removes."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {DIRTY} ()")


def clean_after_killed_run(using: str = "default") -> bool:
    """An earlier run that ended inside a transactional test left that test's rows behind
    (with --reuse-db); put the previous session's snapshot back first. True if it did."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [DIRTY])
        if not cursor.fetchone()[0]:
            return False
    if _restore_statements_load(using):
        snapshot_restore(using)
    else:
        from django.core.management import call_command

        call_command("flush", verbosity=0, interactive=False, database=using)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {DIRTY}")
    return True
