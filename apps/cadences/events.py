"""Signals the cadence services send inside their transaction.

    activity_logged(activity, outcome)   every activity logged on a contact (activity_log)
    morning_summary(digest)              a manager's "clean your room" digest, once per local day
"""

from django.dispatch import Signal

activity_logged = Signal()
morning_summary = Signal()
