"""The one way a meeting's status changes (django-oscar's `set_status`)."""

from __future__ import annotations

from apps.meetings.models import Meeting


def meeting_transition(*, meeting: Meeting, to_status: str, **fields) -> Meeting:
    """Move the caller's locked copy (select_for_update inside its transaction) to `to_status`:
    refuses a move Meeting.TRANSITIONS does not allow (IllegalTransition) before anything is
    written, then saves the status with its audit fields (`fields`: who dispositioned or
    cancelled it and when, the notes) in one UPDATE, in the caller's transaction."""
    Meeting.TRANSITIONS.check(meeting.status, to_status)
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.status = to_status
    meeting.save(update_fields=["status", *fields])
    return meeting
