"""Opportunities: creation, stage moves with their history and attribution, hand-over."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.accounts.services import account_attribution_set
from apps.meetings import selectors
from apps.meetings.models import (
    ClosedLostReason,
    Meeting,
    Opportunity,
    OpportunityEvent,
    OpportunityStage,
)
from apps.people.actors import actor_user
from apps.people.models import Rep

logger = logging.getLogger(__name__)


def opportunity_create(
    *,
    account: Account,
    owner: Rep,
    actor,
    stage: OpportunityStage | None = None,
    name: str = "",
    sourcing_sdr: Rep | None = None,
    source_meeting: Meeting | None = None,
    amount: Decimal | None = None,
    close_date: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Opportunity:
    """Open an opportunity owned by an AE, credited to the SDR who sourced it (the account's
    SDR owner when not given). The account's attribution owners follow: SDR owner = the
    sourcing SDR, opportunity owner = the AE."""
    at = at or timezone.now()
    stage = stage or selectors.stage_by_code(OpportunityStage.MEETING_SCHEDULED)
    if not stage.is_open:
        raise ValidationError({"stage": "An opportunity is opened in an open stage."})
    if owner.role not in (Rep.Role.AE, Rep.Role.MANAGER):
        raise ValidationError({"owner": f"{owner} is not an AE; opportunities are owned by AEs."})
    if amount is not None and amount < 0:
        raise ValidationError({"amount": "The amount cannot be negative."})
    if sourcing_sdr is None and account.sdr_owner_id:
        sourcing_sdr = account.sdr_owner
    with transaction.atomic():
        opportunity = Opportunity.objects.create(
            account=account, name=(name or f"{account.name} – new business")[:255], stage=stage, is_open=True,
            amount=amount, close_date=close_date, owner=owner, sourcing_sdr=sourcing_sdr,
            source_meeting=source_meeting, created_at=at, created_by=actor_user(actor),
            pipeline_at=at if _reaches_pipeline(stage) else None,
        )
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=OpportunityEvent.Kind.CREATED, to_stage=stage, to_owner=owner,
            actor=actor_user(actor), occurred_at=at,
            note=f"From meeting {source_meeting.pk}" if source_meeting else "",
        )
        changes = {"opportunity_owner": owner}
        if sourcing_sdr is not None:
            changes["sdr_owner"] = sourcing_sdr
        account_attribution_set(account=account, **changes)
    return opportunity


def _reaches_pipeline(stage: OpportunityStage) -> bool:
    if stage.outcome == OpportunityStage.Outcome.LOST:
        return False
    pipeline = selectors.pipeline_stage()
    return pipeline is not None and stage.position >= pipeline.position


def opportunity_stage_check(
    *, opportunity: Opportunity, stage: OpportunityStage, closed_lost_reason: str = "",
    merged_into: Opportunity | None = None,
) -> None:
    """The rules of a stage change, shared by the service and the admin form's validation."""
    current = OpportunityStage.objects.get(pk=opportunity.stage_id) if opportunity.pk else None
    if current is not None and current.pk != stage.pk and not current.is_open:
        raise ValidationError({"stage": f"The opportunity is {current.name}; a closed opportunity keeps its stage."})
    if stage.outcome == OpportunityStage.Outcome.LOST:
        if closed_lost_reason not in ClosedLostReason.values:
            given = f"“{closed_lost_reason}” is not one of them. " if closed_lost_reason else ""
            raise ValidationError({"closed_lost_reason": (
                f"Closing as lost needs a closed-lost reason; {given}Choose one of: "
                + ", ".join(f"{value} ({label})" for value, label in ClosedLostReason.choices) + ".")})
        if closed_lost_reason == ClosedLostReason.MERGED:
            if merged_into is None:
                raise ValidationError(
                    {"merged_into": "“Merged into another opportunity” needs the parent opportunity it was merged into."}
                )
            if merged_into.pk == opportunity.pk:
                raise ValidationError({"merged_into": "An opportunity cannot be merged into itself."})
            if merged_into.account_id != opportunity.account_id:
                raise ValidationError({"merged_into": "The parent opportunity must be on the same account."})
            if merged_into.closed_lost_reason:
                raise ValidationError({"merged_into": f"“{merged_into}” is closed lost; merge into a live or won deal."})
        elif merged_into is not None:
            raise ValidationError({"merged_into": "A parent opportunity is named only when merged into it."})
    elif closed_lost_reason or merged_into is not None:
        raise ValidationError({"closed_lost_reason": "A closed-lost reason is given only when closing as lost."})


def opportunity_stage_set(
    *,
    opportunity: Opportunity,
    stage: OpportunityStage,
    actor,
    closed_lost_reason: str = "",
    closed_lost_details: str = "",
    merged_into: Opportunity | None = None,
    cs_owner: Rep | None = None,
    at: dt.datetime | None = None,
    note: str = "",
) -> Opportunity:
    """Move an opportunity to `stage`, recording the change with time and actor.

    Open stages may move forward or back; closed won / closed lost are final. Closed lost
    needs a reason, and "merged into another opportunity" the parent on the same account.
    Won makes the account a customer, with `cs_owner` as its customer-success owner.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        if locked.stage_id == stage.pk:
            return locked
        opportunity_stage_check(
            opportunity=locked, stage=stage, closed_lost_reason=closed_lost_reason, merged_into=merged_into
        )
        from_stage_id = locked.stage_id
        locked.stage = stage
        locked.is_open = stage.is_open
        locked.closed_at = None if stage.is_open else at
        if locked.pipeline_at is None and _reaches_pipeline(stage):
            locked.pipeline_at = at
        if stage.outcome == OpportunityStage.Outcome.LOST:
            locked.closed_lost_reason = closed_lost_reason
            locked.closed_lost_details = closed_lost_details
            locked.merged_into = merged_into
        locked.save()
        OpportunityEvent.objects.create(
            opportunity=locked, kind=OpportunityEvent.Kind.STAGE, from_stage_id=from_stage_id, to_stage=stage,
            actor=actor_user(actor), occurred_at=at, note=note[:255],
        )
        if stage.outcome == OpportunityStage.Outcome.WON:
            changes = {"status": Account.Status.CUSTOMER, "opportunity_owner": locked.owner}
            if cs_owner is not None:
                changes["cs_owner"] = cs_owner
            account_attribution_set(account=locked.account, **changes)
    opportunity.refresh_from_db()
    return opportunity


def opportunity_handover(*, opportunity: Opportunity, to_owner: Rep, actor, at: dt.datetime | None = None) -> Opportunity:
    """Give the opportunity to another AE. The sourcing SDR stays; the account's opportunity
    owner follows the deal."""
    at = at or timezone.now()
    if to_owner.role not in (Rep.Role.AE, Rep.Role.MANAGER) or not to_owner.active:
        raise ValidationError({"owner": f"{to_owner} is not an active AE."})
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        if locked.owner_id == to_owner.pk:
            return locked
        from_owner_id = locked.owner_id
        locked.owner = to_owner
        locked.save(update_fields=["owner"])
        OpportunityEvent.objects.create(
            opportunity=locked, kind=OpportunityEvent.Kind.HANDOVER, from_owner_id=from_owner_id, to_owner=to_owner,
            actor=actor_user(actor), occurred_at=at,
        )
        account = Account.objects.get(pk=locked.account_id)
        if account.opportunity_owner_id in (None, from_owner_id):
            account_attribution_set(account=account, opportunity_owner=to_owner)
    opportunity.refresh_from_db()
    return opportunity


def opportunity_update(
    *, opportunity: Opportunity, actor, name: str | None = None, amount: Decimal | None = None,
    close_date: dt.date | None = None, closed_lost_details: str | None = None,
) -> Opportunity:
    """Plain fields (name, amount, close date, lost details); stage and owner have their own services."""
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        if name is not None:
            if not name.strip():
                raise ValidationError({"name": "An opportunity needs a name."})
            locked.name = name.strip()
        if amount is not None and amount < 0:
            raise ValidationError({"amount": "The amount cannot be negative."})
        locked.amount = amount
        locked.close_date = close_date
        if closed_lost_details is not None:
            locked.closed_lost_details = closed_lost_details
        locked.save(update_fields=["name", "amount", "close_date", "closed_lost_details"])
    opportunity.refresh_from_db()
    return opportunity


def opportunity_stage_update(*, stage: OpportunityStage, name: str, is_pipeline: bool, actor) -> OpportunityStage:
    """Rename a stage or make it the pipeline (SAO) stage; exactly one stage is, so marking
    one clears the others in the same transaction."""
    if not (name or "").strip():
        raise ValidationError({"name": "A stage needs a name."})
    with transaction.atomic():
        if is_pipeline:
            OpportunityStage.objects.exclude(pk=stage.pk).filter(is_pipeline=True).update(is_pipeline=False)
        OpportunityStage.objects.filter(pk=stage.pk).update(name=name.strip(), is_pipeline=is_pipeline)
    stage.refresh_from_db()
    return stage
