"""Signals apps.meetings sends (see sdrops/events.py for the rules), inside the transaction of
the change, so a receiver's writes (an invite in the mail outbox) commit or roll back with it.

    meeting_dispositioned(meeting)               every disposition: the locked, refreshed row
    meeting_booked(meeting)                      a new meeting (also a rebooking after a no-show)
    meeting_rescheduled(meeting, previous)       `meeting` replaces `previous` (now rescheduled)
    meeting_cancelled(meeting)
    meeting_escalated(meeting, manager)          an overdue disposition escalated to the sales manager
"""

from django.dispatch import Signal

meeting_dispositioned = Signal()
meeting_booked = Signal()
meeting_rescheduled = Signal()
meeting_cancelled = Signal()
meeting_escalated = Signal()
