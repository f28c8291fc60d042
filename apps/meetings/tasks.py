"""django-q2 entry points: thin callers of the services (each safe to run twice, or at once)."""

from __future__ import annotations

from apps.meetings import services


def remind_ended_meetings() -> int:
    return services.meetings_remind_ended()


def escalate_overdue_meetings() -> int:
    return services.meetings_escalate_overdue()


def meeting_remind(meeting_id: int) -> bool:
    return services.meeting_remind(meeting_id=meeting_id)


def meeting_escalate(meeting_id: int) -> bool:
    return services.meeting_escalate(meeting_id=meeting_id)


def expire_reschedule_attempts() -> int:
    return services.reschedule_attempts_expire()
