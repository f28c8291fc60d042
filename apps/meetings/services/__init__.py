"""Every write of the meeting flow, by concern: booking (book, reschedule, cancel),
dispositions and their effects, reminders and escalations, opportunities with their stage
history and attribution, and the editable settings. Import from here.

Meeting status map (one transition each, refused otherwise):
    scheduled → completed_qualified | completed_unqualified | no_show   (from its start on)
    scheduled → rescheduled (a new meeting replaces it) | cancelled    (before its start)
Every other status is final. The map is Meeting.TRANSITIONS; the one function that moves a
meeting along it is meeting_transition.
"""

from apps.meetings.services.booking import meeting_book, meeting_cancel, meeting_reschedule
from apps.meetings.services.dispositions import meeting_disposition
from apps.meetings.services.opportunities import (
    opportunity_create,
    opportunity_handover,
    opportunity_stage_check,
    opportunity_stage_set,
    opportunity_stage_update,
    opportunity_update,
)
from apps.meetings.services.reminders import (
    NOTIFY_BATCH,
    meeting_escalate,
    meeting_remind,
    meetings_escalate_overdue,
    meetings_remind_ended,
    reschedule_attempts_expire,
)
from apps.meetings.services.settings import SETTINGS_FIELDS, meeting_settings_update
from apps.meetings.services.transitions import meeting_transition

__all__ = [
    "NOTIFY_BATCH", "SETTINGS_FIELDS", "meeting_book", "meeting_cancel", "meeting_disposition", "meeting_escalate",
    "meeting_remind", "meeting_reschedule", "meeting_settings_update", "meeting_transition", "meetings_escalate_overdue",
    "meetings_remind_ended", "opportunity_create", "opportunity_handover", "opportunity_stage_check",
    "opportunity_stage_set", "opportunity_stage_update", "opportunity_update", "reschedule_attempts_expire",
]
