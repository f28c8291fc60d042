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
