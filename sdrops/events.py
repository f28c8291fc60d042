"""How apps tell each other what happened: `django.dispatch.Signal`s declared in the
sending app's `events.py`, sent by its services *inside* the transaction of the change.

A receiver that writes rows (the webhook outbox) writes them in that transaction, so they
commit or roll back with the change. A receiver with a side effect outside the database
(queueing a task, a mail) wraps itself in `after_commit`, so it runs only once the change
is real. Receivers live in the receiving app (`receivers.py`, connected in its
AppConfig.ready with a dispatch_uid, so connecting twice is harmless).

Signals are sent with `send`, not `send_robust`: an exception in an in-transaction
receiver rolls the change back, as the old callback lists did.
"""

from __future__ import annotations

import functools

from django.db import transaction


def after_commit(receiver):
    """Run `receiver(**kwargs)` after the sender's transaction commits (at once outside one)."""

    @functools.wraps(receiver)
    def deferred(sender, **kwargs):
        transaction.on_commit(lambda: receiver(sender, **kwargs))

    return deferred
