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
def django_db_setup(django_db_setup, django_db_blocker):
    """With --reuse-db the test database survives between runs, and the transactional tests
    of the previous run (browser, concurrency) flushed it, rows written by data migrations
    included. Put those rows back with the same idempotent functions the migrations call."""
    with django_db_blocker.unblock():
        from apps.icps.defaults import icps_defaults_ensure
        from apps.people.roles import sync_role_groups

        sync_role_groups()
        icps_defaults_ensure()


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
