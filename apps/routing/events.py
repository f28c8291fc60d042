"""Signals apps.routing sends (see sdrops/events.py for the rules)."""

from django.dispatch import Signal

RETURN_DECIDED = "return.decided"

# Sent inside the transaction of a return decision (approve or reject), with `event_type`
# (RETURN_DECIDED), `build_data` (a function that builds the event's data: called only by a
# receiver that needs it) and `occurred_at`.
return_decided = Signal()
