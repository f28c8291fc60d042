"""Signals apps.accounts sends (see sdrops/events.py for the rules)."""

from django.dispatch import Signal

# Sent by account_owners_set (and every owner change goes through it) inside the ownership
# transaction, with `events`: a sequence of the OwnershipEvent rows just written, once per
# batch (a bulk import's are read from the table only when a receiver iterates them), and
# `first_owners`: True when every event gives an account just created its first owner (a
# bulk import's new accounts), so nothing moves away from a rep.
owners_changed = Signal()
