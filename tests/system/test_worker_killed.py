"""A django-q2 cluster SIGKILLed in the middle of a distribution, a retrieval sweep and a
large import: afterwards nothing is half-done, and running the job again completes it.

"In the middle" is made deterministic with a table lock, not with sleeps: the test holds a
lock on a table the job writes *late* in its transaction (the ownership events, written
after the accounts' owners were updated; the domain aliases, written after the imported
accounts were inserted), waits until PostgreSQL reports the job's backend waiting on that
lock — so the earlier writes have happened — and then kills the whole cluster. The killed
job's transaction can then only be rolled back; these tests prove that is all it leaves.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import Account, ImportRecord, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory, TeamFactory
from apps.routing.models import AccountRest, Distribution, ReturnRequest
from apps.routing.tests.factories import ScoredAccountFactory
from tests.system.conftest import ROOT, database_url

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

JOB_SECONDS = 120  # upper bound for one job on a loaded 2-core machine


def wait_until(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}")


def query(url: str, sql: str, params=()):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


def enqueue(env, func: str, *args) -> None:
    code = f"from django_q.tasks import async_task\nasync_task({func!r}, *{args!r})"
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
                   env=env, cwd=ROOT, check=True, timeout=120, capture_output=True)


@contextmanager
def table_locked(url: str, table: str):
    """SHARE mode: reads go on, inserts into `table` wait until the block ends."""
    conn = psycopg.connect(url)
    conn.execute(f"LOCK TABLE {table} IN SHARE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def kill_cluster_while_blocked_on(url, env, start_clusters, *, table: str, func: str, args=()):
    """Start a cluster, run `func`, SIGKILL the cluster once the job waits to write `table`,
    and return when PostgreSQL has rolled the killed job's transaction back."""
    with table_locked(url, table):
        clusters = start_clusters(env, count=1)
        enqueue(env, func, *args)
        wait_until(
            lambda: query(url, "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table]),
            timeout=JOB_SECONDS, what=f"the job to block on {table}",
        )
        clusters.kill()
    # The killed job's backend gets the lock, finds its client gone and rolls back.
    wait_until(
        lambda: query(url, "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database()"
                           " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"),
        timeout=30, what="the killed job's transaction to end",
    )


@pytest.fixture
def broker_env(cluster_env, redis_url):
    env, _probe = cluster_env
    return {**env, "REDIS_URL": redis_url}


def test_killed_distribution_leaves_nothing_and_a_rerun_fills_every_book(broker_env, start_clusters):
    team = TeamFactory(name="Kill team")
    reps = [RepFactory(role=Rep.Role.SDR, segment="smb", team=team, capacity=10) for _ in range(3)]
    for i in range(60):
        ScoredAccountFactory(segment="smb", total_score=(i * 37) % 100)
    url = database_url()

    kill_cluster_while_blocked_on(url, broker_env, start_clusters, table="accounts_ownershipevent",
                                  func="apps.routing.tasks.distribution_run_task")
    # The owners had been updated when the job was killed; none of it stayed.
    assert not Distribution.objects.exists()
    assert not Account.objects.filter(owner__isnull=False).exists()
    assert not OwnershipEvent.objects.exists()

    clusters = start_clusters(broker_env, count=1)
    enqueue(broker_env, "apps.routing.tasks.distribution_run_task")
    wait_until(lambda: Distribution.objects.filter(status="committed").exists(), timeout=JOB_SECONDS,
               what="the rerun distribution")
    clusters.stop()
    distribution = Distribution.objects.get()
    assert distribution.lines.count() == 30
    assert sorted(Account.objects.filter(owner__in=reps).values_list("owner_id", flat=True)) == sorted(
        [rep.pk for rep in reps] * 10
    )
    assert OwnershipEvent.objects.filter(reason="distribution").count() == 30
    assert OwnershipEvent.objects.values("account").distinct().count() == 30


def test_killed_retrieval_sweep_leaves_every_account_owned_and_a_rerun_retrieves_each_once(broker_env, start_clusters):
    sdr = RepFactory(role=Rep.Role.SDR, segment="smb", team=TeamFactory(name="Sweep team"), capacity=100)
    accounts = [ScoredAccountFactory(segment="smb") for _ in range(40)]
    with time_machine.travel(timezone.now() - dt.timedelta(days=90), tick=False):
        for account in accounts:
            account_set_owner(account=account, to_rep=sdr, reason="distribution")
    url = database_url()

    kill_cluster_while_blocked_on(url, broker_env, start_clusters, table="accounts_ownershipevent",
                                  func="apps.routing.tasks.retrieval_run_task")
    assert Account.objects.filter(owner=sdr).count() == 40
    assert not AccountRest.objects.exists() and not ReturnRequest.objects.exists()
    assert not OwnershipEvent.objects.filter(reason="retrieval").exists()

    clusters = start_clusters(broker_env, count=1)
    enqueue(broker_env, "apps.routing.tasks.retrieval_run_task")
    wait_until(lambda: ReturnRequest.objects.count() == 40, timeout=JOB_SECONDS, what="the rerun sweep")
    # A second sweep (the next day's schedule, a redelivered task) finds nothing more.
    enqueue(broker_env, "apps.routing.tasks.retrieval_run_task")
    enqueue(broker_env, "tests.system.jobs.record", "after-second-sweep")
    probe = Path(broker_env["SDROPS_PROBE_FILE"])
    wait_until(lambda: probe.exists() and "after-second-sweep" in probe.read_text(),
               timeout=JOB_SECONDS, what="the second sweep to pass")
    clusters.stop()
    assert not Account.objects.filter(owner__isnull=False).exists()
    assert OwnershipEvent.objects.filter(reason="retrieval").count() == 40
    assert AccountRest.objects.count() == 40 and ReturnRequest.objects.count() == 40


def test_killed_large_import_writes_nothing_and_a_rerun_imports_every_row_once(
    broker_env, start_clusters, settings, tmp_path, ops
):
    from apps.accounts.imports.services import import_record_create

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    env = {**broker_env, "MEDIA_ROOT": str(media)}
    rows = 4000  # below the size where the import ANALYZEs (that would wait on the lock earlier)
    data = ("name,website\n" + "".join(f"Killed Import {i},killed-import-{i}.example.com\n" for i in range(rows))).encode()
    record = import_record_create(kind="accounts", file_name="big.csv", data=data, actor=ops.user)
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportRecord.Status.QUEUED)
    url = database_url()

    kill_cluster_while_blocked_on(url, env, start_clusters, table="accounts_domainalias",
                                  func="apps.accounts.imports.tasks.import_record_task", args=(record.pk,))
    # The accounts had been inserted when the job was killed; none of them stayed.
    assert not Account.objects.filter(name__startswith="Killed Import").exists()
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.RUNNING  # what an operator sees: rerun it

    clusters = start_clusters(env, count=1)
    enqueue(env, "apps.accounts.imports.tasks.import_record_task", record.pk)
    wait_until(lambda: ImportRecord.objects.filter(pk=record.pk, status="done").exists(), timeout=JOB_SECONDS,
               what="the rerun import")
    clusters.stop()
    record.refresh_from_db()
    assert (record.new_count, record.rejected_count) == (rows, 0)
    assert Account.objects.filter(name__startswith="Killed Import").count() == rows
    assert Account.objects.filter(domain__startswith="killed-import-").values("domain").distinct().count() == rows
