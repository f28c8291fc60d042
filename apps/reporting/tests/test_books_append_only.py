"""The books rollup is append-only (migration reporting 0041): ownership changes add signed rows
instead of updating one row a key, the readers sum them, and the books_compact job folds them
back into one row a key without changing any number."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.reporting.book_reads import accounts_by_owner
from apps.reporting.rollups import books_compact, rollups_check
from apps.reporting.tasks import books_compact_task
from sdrops.schedules import registered

pytestmark = pytest.mark.django_db
KEY = "owner_id, segment, tier, status, matched, band"


def _rows_per_key() -> dict[tuple, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {KEY}, count(*) FROM reporting_bookcount GROUP BY {KEY}")
        return {row[:-1]: row[-1] for row in cursor.fetchall()}


def test_ownership_changes_append_rows_the_readers_sum_and_the_job_folds(sdr, tia):
    accounts = [AccountFactory(segment="smb") for _ in range(6)]
    for account in accounts:  # one statement each: a row each for the pool's key and the rep's
        account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.DISTRIBUTION)
    account_set_owner(account=accounts[0], to_rep=tia, reason=OwnershipReason.MANUAL)
    account_set_owner(account=accounts[1], to_rep=None, reason=OwnershipReason.RETURN)
    assert max(_rows_per_key().values()) > 1  # appended, not upserted
    everyone = SimpleNamespace(rep_ids=None, segment="")
    before = accounts_by_owner(everyone)
    assert before[sdr.pk] == 4 and before[tia.pk] == 1
    assert rollups_check() == []  # the sums equal a rebuild from the accounts

    removed = books_compact()
    assert removed > 0
    assert set(_rows_per_key().values()) == {1}
    assert accounts_by_owner(everyone) == before
    assert rollups_check() == []
    assert books_compact_task() == 0  # safe to run twice: nothing left to fold


def test_the_compaction_is_a_scheduled_job():
    assert ("reporting.books_compact", "apps.reporting.tasks.books_compact_task") in {
        (job.name, job.func) for job in registered()}
