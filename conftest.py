"""Fixtures shared by every test: one user per role, with their rep and group."""

from __future__ import annotations

import pytest

from apps.people.models import Rep


@pytest.fixture
def team(db):
    from apps.people.tests.factories import TeamFactory

    return TeamFactory(name="East")


@pytest.fixture
def other_team(db):
    from apps.people.tests.factories import TeamFactory

    return TeamFactory(name="West")


@pytest.fixture
def manager(team):
    from apps.people.tests.factories import RepFactory

    rep = RepFactory(role=Rep.Role.MANAGER, team=team, owner_name="Mona Manager", user__username="mona")
    team.manager = rep
    team.save()
    return rep


@pytest.fixture
def sdr(team, manager):
    from apps.people.tests.factories import RepFactory

    return RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Sam Seller", user__username="sam")


@pytest.fixture
def other_sdr(other_team):
    from apps.people.tests.factories import RepFactory

    return RepFactory(role=Rep.Role.SDR, team=other_team, owner_name="Olga Other", user__username="olga")


@pytest.fixture
def ae(team):
    from apps.people.tests.factories import RepFactory

    return RepFactory(role=Rep.Role.AE, team=team, owner_name="Abe Closer", user__username="abe")


@pytest.fixture
def ops(db):
    from apps.people.tests.factories import RepFactory

    return RepFactory(role=Rep.Role.OPS, team=None, owner_name="Opal Ops", user__username="opal")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The embedded PostgreSQL starts here, when the first test needs a database, not when
    the settings are imported (sdrops.settings.test defers it): `--collect-only` is quick."""
    from django.conf import settings

    from sdrops.embedded_db import start_deferred

    start_deferred(settings.DATABASES)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """With --reuse-db the test database survives between runs. The migrate that pytest-django
    runs at the start emitted post_migrate (role groups, lifecycle defaults, schedules); the
    icps defaults have no such hook (a database an older suite flushed lacks them), so they
    are ensured with the same idempotent function their migration calls.

    Then snapshot the reference rows, which every transactional test's teardown puts back
    (tests/reference_data.py) instead of Django's flush and post_migrate."""
    with django_db_blocker.unblock():
        from django.core.management.sql import emit_post_migrate_signal

        from apps.icps.defaults import icps_defaults_ensure
        from tests import reference_data

        if reference_data.clean_after_killed_run():
            # The old snapshot may predate a code change to reference data: re-apply it.
            emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
        icps_defaults_ensure()
        reference_data.snapshot_take()


def _transactional_teardown_restores_the_snapshot():
    """Django's TransactionTestCase ends with `flush` + post_migrate (seconds per test); ours
    ends with one delete-and-copy transaction back to the session's snapshot (~50 ms). Tests that ask
    for serialized_rollback, available_apps or reset_sequences keep Django's own teardown."""
    from django.test import TransactionTestCase

    from tests import reference_data

    original_setup = TransactionTestCase._fixture_setup.__func__  # a classmethod
    original_teardown = TransactionTestCase._fixture_teardown

    def uses_django_teardown(case) -> bool:
        return bool(case.serialized_rollback or case.reset_sequences or case.available_apps is not None)

    def _fixture_setup(cls):
        original_setup(cls)
        if not uses_django_teardown(cls):
            for db_name in cls._databases_names(include_mirrors=False):
                reference_data.mark_dirty(db_name)

    def _fixture_teardown(self):
        names = self._databases_names(include_mirrors=False)
        if uses_django_teardown(self) or not all(reference_data.has_snapshot(n) for n in names):
            return original_teardown(self)
        for db_name in names:
            reference_data.snapshot_restore(db_name)

    TransactionTestCase._fixture_setup = classmethod(_fixture_setup)
    TransactionTestCase._fixture_teardown = _fixture_teardown


_transactional_teardown_restores_the_snapshot()


@pytest.fixture
def run_task(django_capture_on_commit_callbacks):
    """Run a real django-q2 task function in-process (settings.test has sync=True) with its
    after-commit callbacks (emails) executed, as a cluster worker would."""
    from django_q.tasks import async_task, result

    def _run(func: str, *args):
        with django_capture_on_commit_callbacks(execute=True):
            task_id = async_task(func, *args)
        return result(task_id)

    return _run
