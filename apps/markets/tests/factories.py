from __future__ import annotations

import factory

from apps.accounts.tests.factories import AccountFactory
from apps.markets.models import AccountMarket, MarketSegmentRule


class EnrolledAccountFactory(AccountFactory):
    """An account as the classification leaves it: market segment B (enrolled) unless
    `market_segment` names another ("" leaves it unclassified)."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def market_segment(obj, create, extracted, **kwargs):
        segment = "B" if extracted is None else extracted
        if create and segment:
            AccountMarket.objects.create(account=obj, segment=segment, rule_segment=segment)


class MarketSegmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketSegmentRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: n)
    segment = "B"
