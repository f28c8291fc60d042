from __future__ import annotations

import factory
from django.utils import timezone

from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import ICP, Rule, Signal, SignalType


class ICPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ICP

    name = factory.Sequence(lambda n: f"ICP {n}")
    active = True


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    icp = factory.SubFactory(ICPFactory)
    category = Rule.Category.FIT
    condition = Rule.Condition.INDUSTRY_IN
    values = factory.LazyFunction(lambda: ["Software"])
    points = 10


def signal_type(key: str) -> SignalType:
    """The default signal types come from migration 0003."""
    return SignalType.objects.get(key=key)


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal

    account = factory.SubFactory(AccountFactory)
    type = factory.LazyFunction(lambda: signal_type("demo_request"))
    occurred_at = factory.LazyFunction(timezone.now)
    source = factory.Sequence(lambda n: f"test-{n}")
