"""Routing set-up for the demo organisation: capacity rules and routing rules a real team
would start from, so inbound leads in the demo reach reps instead of the ops queue."""

from __future__ import annotations

from apps.people.models import Rep, Segment
from apps.routing.models import CapacityRule, RoutingRule, RoutingRuleMember, Strategy
from apps.routing.services import rules_save


def routing_demo_create(*, sdrs: list[Rep], capacity: int) -> int:
    """Create the demo rules (idempotent by name); returns how many routing rules exist."""
    for segment in [Segment.SMB, Segment.MID_MARKET, Segment.ENTERPRISE, Segment.PUBSEC]:
        if not CapacityRule.objects.filter(role=Rep.Role.SDR, segment=segment).exists():
            rules_save(instance=CapacityRule(role=Rep.Role.SDR, segment=segment, capacity=capacity))
    plans = [
        ("Enterprise and Mid-Market inbound: weighted round robin", 10,
         {"segments": [Segment.ENTERPRISE, Segment.MID_MARKET]}, Strategy.WEIGHTED_ROUND_ROBIN,
         [s for s in sdrs if s.segment in (Segment.ENTERPRISE, Segment.MID_MARKET)]),
        ("Everything else: capacity-aware", 100, {}, Strategy.CAPACITY_AWARE, sdrs),
    ]
    for name, position, conditions, strategy, members in plans:
        if RoutingRule.objects.filter(name=name).exists():
            continue
        rule = rules_save(instance=RoutingRule(name=name, position=position, strategy=strategy, **conditions))
        RoutingRuleMember.objects.bulk_create(
            [RoutingRuleMember(rule=rule, rep=rep, order=i)
             for i, rep in enumerate(members)]
        )
    return RoutingRule.objects.count()
