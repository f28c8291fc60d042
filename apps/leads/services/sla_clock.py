"""The SLA clock of a lead cycle: which policy applies, its deadlines, and the response time
on the policy's clock (calendar or the rep's business hours)."""

from __future__ import annotations

import datetime as dt

from apps.leads.business_hours import policy_deadline, policy_elapsed
from apps.leads.models import LeadCycle, SlaPolicy
from sdrops import config_cache


def _active_policies() -> tuple[SlaPolicy, ...]:
    return tuple(SlaPolicy.objects.filter(active=True).order_by("pk"))


def sla_policy_for(*, lead_type: str, source: str) -> SlaPolicy | None:
    """The active policy for this lead type and source; a source-specific one wins.

    Policies are cached per process (sdrops.config_cache: reloaded when any policy
    changes), so opening a cycle reads none. The instances are shared: never mutate one."""
    policies = [
        p for p in config_cache.cached("leads.sla_policies", _active_policies)
        if p.lead_type == lead_type and p.source in (source or "", "")
    ]
    policies.sort(key=lambda p: p.source == "")
    return policies[0] if policies else None


def sla_clock_start(cycle: LeadCycle) -> None:
    """Set the cycle's policy and deadlines from its (new) assigned_at and rep."""
    policy = sla_policy_for(lead_type=cycle.lead_type, source=cycle.source)
    cycle.sla_policy = policy
    if policy is None:
        cycle.sla_target_at = cycle.sla_maximum_at = None
        return
    tz = cycle.rep.time_zone if cycle.rep else "UTC"
    cycle.sla_target_at = policy_deadline(policy, time_zone=tz, start=cycle.assigned_at, minutes=policy.target_minutes)
    cycle.sla_maximum_at = policy_deadline(policy, time_zone=tz, start=cycle.assigned_at, minutes=policy.maximum_minutes)



def lead_cycle_response_time(*, cycle: LeadCycle) -> dt.timedelta | None:
    """First real touch − assigned at, on the cycle's policy clock (calendar when none).
    None for a lead never touched, including one dispositioned without a touch (bypass)."""
    if cycle.first_touch_at is None:
        return None
    tz = cycle.rep.time_zone if cycle.rep_id else "UTC"
    return policy_elapsed(cycle.sla_policy, time_zone=tz, start=cycle.assigned_at, end=cycle.first_touch_at)


