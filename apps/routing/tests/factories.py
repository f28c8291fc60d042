from __future__ import annotations

import factory

from apps.icps.models import ICP
from apps.markets.tests.factories import EnrolledAccountFactory
from apps.routing.models import RoutingRule, RoutingRuleMember, Strategy


class ICPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ICP
        django_get_or_create = ("name",)

    name = "Core ICP"


class ScoredAccountFactory(EnrolledAccountFactory):
    """A pool account as the scoring work and the classification leave it: ICP-matched,
    scored, tiered and enrolled (market segment B; `market_segment=""` leaves it unclassified)."""

    matched_icp = factory.SubFactory(ICPFactory)
    total_score = 50
    tier = factory.LazyAttribute(lambda o: "A" if o.total_score >= 70 else ("B" if o.total_score >= 40 else "C"))


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: n)
    strategy = Strategy.ROUND_ROBIN


def rule_with(reps, *, weights=None, **kwargs) -> RoutingRule:
    rule = RoutingRuleFactory(**kwargs)
    for order, rep in enumerate(reps):
        RoutingRuleMember.objects.create(rule=rule, rep=rep, order=order, weight=(weights or {}).get(rep.pk, 1))
    return rule
