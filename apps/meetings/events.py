"""Signals the meeting services send inside their transaction, so a receiver's writes (an
invite in the mail outbox) commit or roll back with the change.

    meeting_booked(meeting)                      a new meeting (also a rebooking after a no-show)
    meeting_rescheduled(meeting, previous)       `meeting` replaces `previous` (now rescheduled)
    meeting_cancelled(meeting)
    meeting_escalated(meeting, manager)          an overdue disposition escalated to the sales manager
"""

from django.dispatch import Signal

meeting_booked = Signal()
meeting_rescheduled = Signal()
meeting_cancelled = Signal()
meeting_escalated = Signal()
