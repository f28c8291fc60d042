"""Signals the cadence services send inside their transaction.

    activity_logged(activity, outcome)   every activity logged on a contact (activity_create)
"""

from django.dispatch import Signal

activity_logged = Signal()
