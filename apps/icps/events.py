"""Signals apps.icps sends (see sdrops/events.py for the rules)."""

from django.dispatch import Signal

# Sent inside the transaction that recorded new signals, with `account_ids`: the sorted ids
# of the accounts that received them.
signals_recorded = Signal()
