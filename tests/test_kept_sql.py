"""sdrops.kept_sql: a statement compiled once per configuration version gives the rows the
queryset gives, for every value; statements it cannot keep safely run through the ORM."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, ExpressionWrapper, F, FloatField, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Account
from apps.accounts.tests.factories import AccountFactory
from apps.people.tests.factories import ContactFactory
from sdrops import config_cache, kept_sql

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def accounts():
    made = []
    for n, days in enumerate([1, 4, 9, 30]):
        account = AccountFactory(name=f"Kept {n}", employees=10 * (n + 1))
        Account.objects.filter(pk=account.pk).update(created_at=NOW - dt.timedelta(days=days))
        for _ in range(n):
            ContactFactory(account=account)
        made.append(account)
    return made


@pytest.fixture
def versioned():
    """A configuration version to file kept statements under, as a request has."""
    config_cache.clear()
    with config_cache.checked(config_cache.version_read() or 1):
        yield
    config_cache.clear()


def recent(account_id: int, now: dt.datetime):
    return (Account.objects.filter(Q(pk=account_id) | Q(created_at__gte=now - dt.timedelta(days=5)))
            .annotate(people=Count("contacts"), half=ExpressionWrapper(F("employees") * 0.5, output_field=FloatField()))
            .order_by("name").values("name", "people", "half"))


def test_kept_rows_equal_the_querysets_for_every_value(accounts, versioned):
    seen = []
    for account in accounts:
        for now in (NOW, NOW - dt.timedelta(days=6), NOW + dt.timedelta(days=20)):
            rows = kept_sql.kept_list("test.recent", recent, account_id=account.pk, now=now)
            assert rows == list(recent(account.pk, now)), (account.name, now)
            seen.append(rows)
    # The window start (now - 5 days) was kept as a moved value; the float column converted as Django does.
    kept = config_cache._entries[("kept_sql", "test.recent")][1]
    assert kept is not kept_sql._NOT_KEPT and any(slot[0] == "moved" for slot in kept.params)
    assert isinstance(seen[0][0]["half"], float) and seen[0][0]["people"] == 0
    # Kept: one statement a call, none to build it again.
    with CaptureQueriesContext(connection) as ctx:
        kept_sql.kept_list("test.recent", recent, account_id=accounts[0].pk, now=NOW)
    assert len(ctx.captured_queries) == 1 and "%s" not in ctx.captured_queries[0]["sql"]


def test_a_value_transformed_on_its_way_is_not_kept_and_still_answers(accounts, versioned):
    def same_day(now: dt.datetime):
        return Account.objects.filter(created_at__date=now.date()).order_by("name").values("name")

    for now in (NOW, NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=9)):
        assert kept_sql.kept_list("test.same_day", same_day, now=now) == list(same_day(now))
    assert config_cache._entries[("kept_sql", "test.same_day")][1] is kept_sql._NOT_KEPT


def test_a_value_that_shapes_the_statement_is_not_kept(accounts, versioned):
    def first(count: int):
        return Account.objects.order_by("name").values("name")[:count]

    assert kept_sql.kept_list("test.first", first, count=2) == list(first(2))
    assert kept_sql.kept_list("test.first", first, count=3) == list(first(3))
    assert config_cache._entries[("kept_sql", "test.first")][1] is kept_sql._NOT_KEPT


def test_values_that_cannot_be_stood_in_for_run_through_the_orm(accounts, versioned):
    def named(name: str):
        return Account.objects.filter(name=name).values("name")

    assert kept_sql.kept_list("test.named", named, name="Kept 2") == [{"name": "Kept 2"}]
    assert kept_sql.kept_list("test.named", named, name="Kept 3") == [{"name": "Kept 3"}]


def test_a_later_call_with_a_value_of_another_kind_runs_through_the_orm(accounts, versioned):
    """A statement kept for an int id is not run with a str id or a naive instant (the ORM
    converts those on their way; the kept SQL would compare a bigint with text)."""
    account = accounts[1]
    assert kept_sql.kept_list("test.recent", recent, account_id=account.pk, now=NOW) == list(recent(account.pk, NOW))
    assert kept_sql.kept_list("test.recent", recent, account_id=str(account.pk), now=NOW) == list(recent(account.pk, NOW))
    naive = timezone.make_naive(NOW, dt.UTC)
    with pytest.warns(RuntimeWarning):
        assert kept_sql.kept_list("test.recent", recent, account_id=account.pk, now=naive) == list(recent(account.pk, NOW))
