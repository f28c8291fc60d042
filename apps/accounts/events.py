"""Signals apps.accounts sends (see sdrops/events.py for the rules)."""

from django.dispatch import Signal

# Sent by account_owners_set (and every owner change goes through it) inside the ownership
# transaction, with `events`: the list of OwnershipEvent rows just written, once per batch.
owners_changed = Signal()
