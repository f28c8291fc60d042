"""sdrops.config_cache: a process's cached configuration is reloaded exactly when another
worker's change commits (its own connection, as another gunicorn or django-q2 process
would have), never from a rolled-back change, and costs one small statement to check."""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.integrations.models import WebhookEndpoint
from apps.integrations.outbox import active_subscriptions
from sdrops import config_cache


def in_other_worker(fn):
    errors = []

    def run():
        try:
            fn()
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_elsewhere_reloads_and_a_rolled_back_one_does_not():
    WebhookEndpoint.objects.all().delete()  # whatever an earlier test left: moves the version
    assert active_subscriptions() == ()
    with CaptureQueriesContext(connection) as ctx:
        assert active_subscriptions() == ()
    assert len(ctx) == 1  # the version check only: the value came from the cache

    def create():
        WebhookEndpoint.objects.create(name="crm", url="https://crm.example/hook", event_types=["lead.assigned"])

    in_other_worker(create)
    assert [set(s.event_types) for s in active_subscriptions()] == [{"lead.assigned"}]

    def rolled_back():
        with transaction.atomic():
            WebhookEndpoint.objects.update(active=False)
            assert active_subscriptions() == ()  # that worker sees its own change
            transaction.set_rollback(True)

    in_other_worker(rolled_back)
    assert [set(s.event_types) for s in active_subscriptions()] == [{"lead.assigned"}]
    WebhookEndpoint.objects.all().delete()


@pytest.mark.django_db
def test_inside_a_checked_unit_of_work_no_statement_is_spent():
    version = config_cache.version_read()
    active_subscriptions()
    with config_cache.checked(version), CaptureQueriesContext(connection) as ctx:
        active_subscriptions()
    assert len(ctx) == 0


@pytest.mark.django_db
def test_coverage_rules_and_segment_rules_follow_their_edits():
    """The record page's coverage settings and active market segment rules come from the cache
    (migration sdrops 0015 moves the version on their tables): an edit shows on the next read."""
    from apps.markets.coverage import CoverageRules
    from apps.markets.models import CoverageSettings, MarketSegmentRule
    from apps.markets.selectors import active_segment_rules

    rules, segment_rules = CoverageRules.load(), active_segment_rules()
    version = config_cache.version_read()
    with config_cache.checked(version), CaptureQueriesContext(connection) as ctx:
        assert CoverageRules.load() == rules and active_segment_rules() == segment_rules
    assert len(ctx) == 0
    settings = CoverageSettings.load()
    settings.min_contacts = rules.min_contacts + 2
    settings.save()
    assert CoverageRules.load().min_contacts == rules.min_contacts + 2
    MarketSegmentRule.objects.update(active=False)
    assert active_segment_rules() == ()


@pytest.mark.django_db
def test_a_read_only_request_reads_the_version_once_and_a_post_per_unit_of_work(client, ops):
    """A GET page asks the cache from its permission checks, its menus and its template tags, each
    in its own scope: the first version read holds for the rest of the request. A POST may change
    configuration, so it keeps reading per unit of work."""
    from django.urls import reverse

    client.force_login(ops.user)
    for name in ("admin:index", "admin:accounts_account_changelist", "admin:meetings_meeting_changelist"):
        client.get(reverse(name))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(name)).status_code == 200
        assert sum("sdrops_configversion" in q["sql"] for q in ctx.captured_queries) == 1, name
    # Outside a request nothing sticks: each unchecked read asks again.
    with CaptureQueriesContext(connection) as ctx:
        config_cache.current_or_read()
        config_cache.current_or_read()
    assert len(ctx) == 2
