"""Writes to the lead lifecycle, by concern: `cycles` (open, touch, disposition), `sla_clock`
(policy and deadlines), `sla` (reminders, re-assignment, escalation, backfill) and
`abandon` (auto-abandon) and `exceptions` (cycles taken out of the numbers). The morning email is apps.leads.morning."""

from apps.leads.services.abandon import lead_cycle_auto_abandon, lead_cycles_to_auto_abandon
from apps.leads.services.cycles import (
    QUALIFYING_ACTIVITY_TYPES,
    WORK_ACTIVITY_TYPES,
    disposition_reason_by_code,
    lead_cycle_disposition,
    lead_cycle_open,
    lead_cycle_qualification_evidence,
    lead_cycle_touch,
)
from apps.leads.services.exceptions import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.leads.services.sla import lead_cycle_sla_enforce, lead_cycles_past_sla, lead_cycles_sla_backfill
from apps.leads.services.sla_clock import lead_cycle_response_time, sla_policy_for

__all__ = [
    "QUALIFYING_ACTIVITY_TYPES",
    "WORK_ACTIVITY_TYPES",
    "disposition_reason_by_code",
    "lead_cycle_auto_abandon",
    "lead_cycle_disposition",
    "lead_cycle_exception_clear",
    "lead_cycle_exception_mark",
    "lead_cycle_open",
    "lead_cycle_qualification_evidence",
    "lead_cycle_response_time",
    "lead_cycle_sla_enforce",
    "lead_cycle_touch",
    "lead_cycles_past_sla",
    "lead_cycles_sla_backfill",
    "lead_cycles_to_auto_abandon",
    "sla_policy_for",
]
