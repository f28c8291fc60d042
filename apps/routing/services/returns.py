"""Returns and swaps: filing, approving (with its outcome), rejecting, and data fixes."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.people.actors import actor_scope_user, actor_user
from apps.people.models import Rep
from apps.routing import selectors
from apps.routing.events import RETURN_DECIDED, return_decided
from apps.routing.models import (
    AccountRest,
    ReturnOutcome,
    ReturnReason,
    ReturnRequest,
)
from apps.routing.services.credits import credit_grant
from apps.routing.services.merge import account_merge
from sdrops import mail
from sdrops.access import accounts_visible_to

logger = logging.getLogger(__name__)


def _return_data(request: ReturnRequest) -> dict:
    request = ReturnRequest.objects.select_related("rep__user", "reassign_to__user", "reviewed_by").get(pk=request.pk)

    def rep(r):
        return {"id": r.pk, "owner_name": r.owner_name, "email": r.user.email, "role": r.role} if r else None

    def iso(value):
        return value.isoformat() if value else None

    return {
        "return": {
            "id": request.pk, "status": request.status, "reason": request.reason, "outcome": request.outcome,
            "note": request.note, "review_note": request.review_note, "rest_days": request.rest_days,
            "get_back_on": iso(request.get_back_on), "created_at": iso(request.created_at),
            "reviewed_at": iso(request.reviewed_at),
            "reviewed_by": request.reviewed_by.get_username() if request.reviewed_by else None,
        },
        "account": {"id": request.account_id, "name": request.account_name},
        "duplicate_of": request.duplicate_of_id,
        "swap_account": request.swap_account_id,
        "rep": rep(request.rep),
        "reassign_to": rep(request.reassign_to),
    }


def _return_decided(request: ReturnRequest) -> None:
    # apps.integrations writes its webhook outbox here, so the notification commits or
    # rolls back with the decision.
    return_decided.send(sender=ReturnRequest, event_type=RETURN_DECIDED, build_data=lambda: _return_data(request),
                        occurred_at=request.reviewed_at)


DEFAULT_OUTCOME = {
    ReturnReason.DUPLICATE: ReturnOutcome.MERGE,
    ReturnReason.GET_BACK_TO_ME: ReturnOutcome.REST,
    ReturnReason.NO_ICP_FIT: ReturnOutcome.DISQUALIFY,
    ReturnReason.NO_RELEVANT_CONTACT: ReturnOutcome.REST,
    ReturnReason.NOT_INTERESTED: ReturnOutcome.REST,
    ReturnReason.OUT_OF_BUSINESS: ReturnOutcome.DISQUALIFY,
    ReturnReason.BAD_DATA: ReturnOutcome.DATA_FIX,
    ReturnReason.RETRIEVAL: ReturnOutcome.REST,
}


def swap_replacement_pick(*, rep: Rep, now: dt.datetime) -> int | None:
    """The best pool account for `rep` by the distribution's rules (their segment, best
    score first), locked with SKIP LOCKED so two swaps never take the same one."""
    pool = selectors.pool_accounts(segment=rep.segment or None, now=now)
    return pool.select_for_update(no_key=True, skip_locked=True, of=("self",)).values_list("pk", flat=True).first()


def reassign_refusal(pk) -> str:
    """The one answer for a reassign target the reviewer may not use, whether it exists or not."""
    return f"No SDR with id {pk} that you may reassign to."


def duplicate_refusal(pk) -> str:
    """The one answer for a duplicate's survivor outside the filer's scope, or missing."""
    return f"No account with id {pk} in your scope."


def return_file(
    *,
    account: Account,
    rep: Rep,
    reason: str,
    note: str = "",
    duplicate_of: Account | None = None,
    get_back_on: dt.date | None = None,
    swap: bool = False,
    actor=None,
) -> ReturnRequest:
    """An SDR returns an account from their own book for review; with `swap` they get the
    best available replacement at once, so their book never shrinks while it waits."""
    if reason not in ReturnReason.values or reason == ReturnReason.RETRIEVAL:
        allowed = ", ".join(v for v in ReturnReason.values if v != ReturnReason.RETRIEVAL)
        raise ValidationError({"reason": f"Unknown return reason “{reason}”; expected one of {allowed}."})
    if reason == ReturnReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": "Name the account this one duplicates."})
        if duplicate_of.pk == account.pk:
            raise ValidationError({"duplicate_of": "An account cannot duplicate itself."})
        # The survivor must be one the filer sees: a hidden account is answered as a missing one.
        user = actor_scope_user(actor)
        if user is not None and not accounts_visible_to(user=user).filter(pk=duplicate_of.pk).exists():
            raise ValidationError({"duplicate_of": duplicate_refusal(duplicate_of.pk)})
    else:
        duplicate_of = None
    if reason == ReturnReason.GET_BACK_TO_ME:
        if get_back_on is None:
            raise ValidationError({"get_back_on": "Give the date to get back to them."})
        if get_back_on <= selectors.today():
            raise ValidationError({"get_back_on": "The get-back-to-me date must be in the future."})
    else:
        get_back_on = None
    now = timezone.now()
    with transaction.atomic():
        locked = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
        if not selectors.account_in_own_book(account=locked, rep=rep):
            raise ValidationError(selectors.OWN_BOOK_ONLY)
        if ReturnRequest.objects.filter(account=locked, status=ReturnRequest.Status.PENDING).exists():
            raise ValidationError(f"{locked} already has a return waiting for review.")
        try:
            with transaction.atomic():
                request = ReturnRequest.objects.create(
                    account=locked, account_name=locked.name, rep=rep, reason=reason, note=note,
                    duplicate_of=duplicate_of, get_back_on=get_back_on, created_at=now,
                )
        except IntegrityError:
            raise ValidationError(f"{locked} already has a return waiting for review.") from None
        if swap:
            replacement = swap_replacement_pick(rep=rep, now=now)
            if replacement is not None:
                account_owners_set(changes=[(replacement, rep.pk)], reason=OwnershipReason.SWAP, actor=actor,
                                   note=f"Swap for {locked.name}")
                request.swap_account_id = replacement
                request.save(update_fields=["swap_account"])
    return request


def _rest(account_id: int, *, until: dt.datetime | None, kind: str, reason: str, signal_on: dt.date | None = None) -> None:
    AccountRest.objects.update_or_create(
        account_id=account_id,
        defaults={"kind": kind, "until": until, "reason": reason, "signal_on": signal_on, "signal_added_at": None,
                  "created_at": timezone.now()},
    )


def return_approve(
    *,
    return_request: ReturnRequest,
    actor=None,
    outcome: str | None = None,
    rest_days: int | None = None,
    reassign_to: Rep | None = None,
    note: str = "",
) -> ReturnRequest:
    """Approve a pending return with an outcome (default per reason): rest then pool;
    disqualify; merge into the named duplicate; data fixing then pool; reassign.

    Scope (the actor's; None is the system): a reassign target must be an SDR the reviewer
    may assign to (selectors.reps_assignable_by) and a merge survivor an account the reviewer
    sees; anything else is answered exactly as a target or survivor that does not exist."""
    now = timezone.now()
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if request.status != ReturnRequest.Status.PENDING:
            raise ValidationError(f"This return was already {request.get_status_display().lower()}.")
        outcome = outcome or DEFAULT_OUTCOME[request.reason]
        if outcome not in ReturnOutcome.values:
            raise ValidationError({"outcome": f"Unknown outcome “{outcome}”."})
        if request.account_id is None:
            raise ValidationError("The returned account no longer exists.")
        roe = selectors.roe_get()
        account = Account.objects.select_for_update(no_key=True).get(pk=request.account_id)
        reason_note = f"Return approved: {request.get_reason_display()}"
        # Taken back for a reason that is not the rep's (the rules' credit reasons): a credit,
        # granted before a merge deletes the account (the same transaction either way).
        credit_grant(rep=request.rep, reason=request.reason, account=account, return_request=request,
                     account_name=request.account_name, note=reason_note)
        if outcome == ReturnOutcome.REST:
            if request.reason == ReturnReason.GET_BACK_TO_ME and rest_days is None:
                until = timezone.make_aware(dt.datetime.combine(request.get_back_on, dt.time.min))
                days = max(0, (request.get_back_on - selectors.today(now)).days)
                signal_on = request.get_back_on
            else:
                days = rest_days if rest_days is not None else selectors.rest_days_for(roe=roe, reason=request.reason)
                until, signal_on = now + dt.timedelta(days=days), None
            account_owners_set(changes=[(account.pk, None)], reason=OwnershipReason.RETURN, actor=actor, note=reason_note)
            _rest(account.pk, until=until, kind=AccountRest.Kind.REST, reason=request.reason, signal_on=signal_on)
            request.rest_days = days
        elif outcome == ReturnOutcome.DISQUALIFY:
            account_owners_set(changes=[(account.pk, None)], reason=OwnershipReason.RETURN, actor=actor, note=reason_note)
            Account.objects.filter(pk=account.pk).update(status=Account.Status.DISQUALIFIED, updated_at=now)
        elif outcome == ReturnOutcome.DATA_FIX:
            account_owners_set(changes=[(account.pk, None)], reason=OwnershipReason.RETURN, actor=actor, note=reason_note)
            _rest(account.pk, until=None, kind=AccountRest.Kind.DATA_FIX, reason=request.reason)
        elif outcome == ReturnOutcome.REASSIGN:
            if reassign_to is None:
                raise ValidationError({"reassign_to": "Choose the rep to reassign the account to."})
            if not selectors.reps_assignable_by(user=actor_scope_user(actor)).filter(pk=reassign_to.pk).exists():
                raise ValidationError({"reassign_to": reassign_refusal(reassign_to.pk)})
            if reassign_to.pk == request.rep_id:
                raise ValidationError({"reassign_to": "Reassign to a different rep than the one returning it."})
            account_owners_set(changes=[(account.pk, reassign_to.pk)], reason=OwnershipReason.RETURN, actor=actor,
                               note=reason_note)
            request.reassign_to = reassign_to
        elif outcome == ReturnOutcome.MERGE:
            # A survivor outside the reviewer's scope is answered as a missing one.
            survivor = selectors.return_survivor_visible(user=actor_scope_user(actor), return_request=request)
            if survivor is None:
                raise ValidationError({"outcome": "Only a return that names the duplicate can be merged."})
            account_merge(duplicate=account, survivor=survivor, actor=actor)
            request.account = None  # The duplicate is gone; account_name keeps what it was.
        request.outcome = outcome
        return_request_transition(return_request=request, to_status=ReturnRequest.Status.APPROVED, actor=actor,
                                  at=now, note=note)
    return request


def return_request_transition(*, return_request: ReturnRequest, to_status: str, actor, at, note: str) -> ReturnRequest:
    """The one way a return's status changes (its review), on the caller's locked copy:
    refuses a move ReturnRequest.TRANSITIONS does not allow (IllegalTransition) before
    anything is written, then records who reviewed it, when and why on the row and tells
    other apps (the return_decided signal) in the same transaction."""
    ReturnRequest.TRANSITIONS.check(return_request.status, to_status)
    return_request.status = to_status
    return_request.reviewed_by, return_request.reviewed_at, return_request.review_note = actor_user(actor), at, note
    return_request.save()
    _return_decided(return_request)
    return return_request


def return_reject(*, return_request: ReturnRequest, actor=None, note: str) -> ReturnRequest:
    """The account stays with the rep; the rep is told why (mail after commit)."""
    if not (note or "").strip():
        raise ValidationError({"review_note": "Tell the rep why the return is rejected."})
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().select_related("rep__user").get(pk=return_request.pk)
        if request.status != ReturnRequest.Status.PENDING:
            raise ValidationError(f"This return was already {request.get_status_display().lower()}.")
        return_request_transition(return_request=request, to_status=ReturnRequest.Status.REJECTED, actor=actor,
                                  at=timezone.now(), note=note.strip())
        mail.send_after_commit(to=[request.rep.user.email], template="routing/email/return_rejected",
                               context={"request": request})
    return request


def return_data_fixed(*, return_request: ReturnRequest, actor=None) -> ReturnRequest:
    """Ops fixed the data: the account goes back to the pool."""
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if request.outcome != ReturnOutcome.DATA_FIX or request.data_fixed_at is not None:
            raise ValidationError("This return is not waiting for data fixing.")
        AccountRest.objects.filter(account_id=request.account_id, kind=AccountRest.Kind.DATA_FIX).delete()
        request.data_fixed_at = timezone.now()
        request.save(update_fields=["data_fixed_at"])
    return request
