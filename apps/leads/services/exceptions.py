"""Exceptions: a lead cycle a manager or ops take out of every performance number (issue 22
item 4, the Measurable Lead Model's "exceptions are dealt with promptly and incorporated into
the broader process"). Marking and clearing are the one transition of
LeadCycle.EXCEPTION_TRANSITIONS (counted ⇄ exception); each writes who, when and why on the
cycle and as a LeadCycleEvent in the same transaction, and sends
events.lead_cycle_exception_changed so maintained totals re-count the cycle."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.leads import events
from apps.leads.models import ExceptionReason, LeadCycle, LeadCycleEvent
from apps.leads.rules import may_mark_exception
from apps.people.actors import actor_scope_user, actor_user


def _locked_in_scope(*, cycle_id: int, actor) -> LeadCycle:
    from sdrops.access import lead_cycles_visible_to, scoped_rep_ids

    user = actor_scope_user(actor)
    if not may_mark_exception(user):
        raise PermissionDenied("Only a manager or ops may mark a lead cycle an exception or clear the mark.")
    locked = LeadCycle.objects.select_for_update(no_key=True).filter(pk=cycle_id).first()
    # A manager acts on their reps' cycles (the assigned rep, or a lead page they may open);
    # a cycle outside that scope gets the same answer as a missing one.
    ids = scoped_rep_ids(user=user)
    if locked is not None and ids is not None and locked.rep_id not in ids \
            and not lead_cycles_visible_to(user=user).filter(pk=cycle_id).exists():
        locked = None
    if locked is None:
        raise ValidationError("This lead cycle does not exist.")
    return locked


def _apply(*, cycle: LeadCycle, to: str, actor, at: dt.datetime, note: str, **changes) -> LeadCycle:
    LeadCycle.EXCEPTION_TRANSITIONS.check(cycle.exception_state, to)
    for field, value in changes.items():
        setattr(cycle, field, value)
    cycle.save(update_fields=list(changes))
    kind = LeadCycleEvent.Kind.EXCEPTION_MARKED if to == LeadCycle.EXCEPTION else LeadCycleEvent.Kind.EXCEPTION_CLEARED
    LeadCycleEvent.objects.create(
        cycle=cycle, kind=kind, from_state=cycle.state, to_state=cycle.state, from_rep_id=cycle.rep_id,
        to_rep_id=cycle.rep_id, actor=actor_user(actor), occurred_at=at, note=note[:255],
    )
    events.lead_cycle_exception_changed.send(
        sender=LeadCycle, cycle_id=cycle.pk, exception=to == LeadCycle.EXCEPTION, occurred_at=at
    )
    return cycle


def lead_cycle_exception_mark(*, cycle: LeadCycle, reason: ExceptionReason, actor, note: str = "",
                              at: dt.datetime | None = None) -> LeadCycle:
    """Take `cycle` out of the numbers with an active reason from the list (and a note on
    why). Refused for a rep, for a cycle outside the actor's scope and for one already marked."""
    if reason is None or not reason.active:
        raise ValidationError({"reason": "Choose an active exception reason from the list (ops edit it)."})
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked_in_scope(cycle_id=cycle.pk, actor=actor)
        text = f"{reason.label}: {note}" if note else reason.label
        return _apply(cycle=locked, to=LeadCycle.EXCEPTION, actor=actor, at=at, note=text,
                      exception_reason=reason, exception_note=note[:255], exception_by=actor_user(actor),
                      exception_at=at)


def lead_cycle_exception_clear(*, cycle: LeadCycle, actor, note: str = "", at: dt.datetime | None = None) -> LeadCycle:
    """Count `cycle` again (the undo of a mark): the same who-may rules, and the event keeps
    the reason the mark had."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked_in_scope(cycle_id=cycle.pk, actor=actor)
        if locked.exception_at is None:
            raise ValidationError("This lead cycle is not an exception; nothing to clear.")
        text = f"was: {locked.exception_reason.label}" + (f"; {note}" if note else "")
        return _apply(cycle=locked, to=LeadCycle.COUNTED, actor=actor, at=at, note=text,
                      exception_reason=None, exception_note="", exception_by=None, exception_at=None)
