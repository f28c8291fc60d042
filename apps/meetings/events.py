"""Signals apps.meetings sends (see sdrops/events.py for the rules)."""

from django.dispatch import Signal

# Sent inside the transaction of every meeting disposition, with `meeting`: the locked,
# refreshed row.
meeting_dispositioned = Signal()
