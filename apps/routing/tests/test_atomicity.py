"""A job that dies part-way leaves nothing half-done (failure injected at the last write)."""

import datetime as dt

import pytest
import time_machine

from apps.accounts.models import Account, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.routing import services
from apps.routing.models import AccountRest, Distribution, DistributionLine, ReturnRequest
from apps.routing.services import distributions
from apps.routing.tests.factories import ScoredAccountFactory

pytestmark = pytest.mark.django_db


class Crash(Exception):
    pass


def test_distribution_dying_part_way_leaves_nothing(sdr, monkeypatch):
    for score in (90, 50, 10):
        ScoredAccountFactory(total_score=score)
    real = distributions.account_owners_set

    def owners_then_crash(**kwargs):
        real(**kwargs)
        raise Crash

    monkeypatch.setattr(distributions, "account_owners_set", owners_then_crash)
    with pytest.raises(Crash):
        services.distribution_run()
    assert not Distribution.objects.exists() and not DistributionLine.objects.exists()
    assert not Account.objects.filter(owner__isnull=False).exists() and not OwnershipEvent.objects.exists()
    monkeypatch.undo()
    assert services.distribution_run().lines.count() == 3


def test_retrieval_dying_part_way_leaves_nothing(sdr, monkeypatch):
    t0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with time_machine.travel(t0, tick=False):
        account = ScoredAccountFactory()
        account_set_owner(account=account, to_rep=sdr, reason="distribution")

    def crash(*args, **kwargs):
        raise Crash

    monkeypatch.setattr(ReturnRequest.objects, "bulk_create", crash)
    with time_machine.travel(t0 + dt.timedelta(days=40), tick=False):
        with pytest.raises(Crash):
            services.retrieval_run()
        account.refresh_from_db()
        assert account.owner == sdr and not AccountRest.objects.exists()
        assert OwnershipEvent.objects.filter(reason="retrieval").count() == 0
        monkeypatch.undo()
        assert len(services.retrieval_run()) == 1
