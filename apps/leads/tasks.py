"""django-q2 task functions for the lead lifecycle (declared in apps.leads.schedules). Each
scans for work and hands each id to an idempotent service that re-reads and locks the row
(SKIP LOCKED), so a re-run or an overlapping run is harmless. They return a small summary
that django-q stores on the task."""

from __future__ import annotations

from apps.leads import morning
from apps.leads import services as lead_services


def lead_sla_check() -> dict:
    return lead_services.lead_cycles_sla_enforce()


def lead_sla_enforce(cycle_id: int) -> str:
    return lead_services.lead_cycle_sla_enforce(cycle_id=cycle_id)


def lead_auto_abandon() -> int:
    return sum(lead_services.lead_cycle_auto_abandon(cycle_id=pk) for pk in lead_services.lead_cycles_to_auto_abandon())


def lead_morning_emails() -> int:
    return sum(morning.morning_email_send(manager_id=pk) for pk in morning.morning_emails_due())


def morning_email_for(manager_id: int) -> bool:
    return morning.morning_email_send(manager_id=manager_id)
