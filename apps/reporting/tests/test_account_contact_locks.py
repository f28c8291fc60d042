"""The account-contact rollup's refresh serialises writers through advisory locks; a statement
writing the contacts of many accounts holds a bounded number of them (migration reporting 0042:
one per account ran PostgreSQL's lock table out of memory past ~6,400 accounts)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.accounts.tests.factories import AccountFactory
from apps.reporting.rollups import rollups_check

pytestmark = pytest.mark.django_db


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return cursor.fetchone()[0]


def test_contacts_of_a_thousand_accounts_in_one_statement_take_at_most_256_locks():
    ids = [AccountFactory().pk for _ in range(1000)]
    before = _advisory_locks_held()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO people_contact (account_id, email, first_name, last_name, title, buying_role, persona, "
                       "source, phone, linkedin_url, created_at, updated_at) "
                       "SELECT a, 'c' || a || '@locks.example', 'C', 'L', '', 'champion', 'Ops', 'import', '', '', now(), now() "
                       "FROM unnest(%s::bigint[]) a", [ids])
    assert 256 - 10 <= _advisory_locks_held() - before <= 256  # ~every bucket once, none per account
    assert rollups_check() == []
