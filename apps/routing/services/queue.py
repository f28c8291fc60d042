"""The first-come queue: a rep claims the next lead waiting in a queue they belong to."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_owners_set
from apps.campaigns.services import campaign_link_waiting
from apps.leads.models import LeadType
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.people.actors import actor_user
from apps.people.models import Rep
from apps.routing import selectors
from apps.routing.models import (
    QueueItem,
    RoutingDecision,
    Strategy,
)
from apps.routing.services.common import SKIP_LABELS, RoutingError

logger = logging.getLogger(__name__)


def queue_claim_next(*, rep: Rep, actor=None) -> QueueItem | None:
    """Hand `rep` the oldest unclaimed lead of the queues they belong to. Two reps clicking
    at once never get the same one (SKIP LOCKED); a rep at capacity or away cannot claim."""
    on = selectors.today()
    with transaction.atomic():
        Rep.objects.select_for_update(no_key=True).filter(pk=rep.pk).first()
        current = selectors.reps_with_capacity(Rep.objects.filter(pk=rep.pk)).get()
        reason = selectors.rep_skip_reason(rep=current, base_capacity=current.base_capacity, load=current.load, on=on)
        if reason:
            raise RoutingError(f"{rep} cannot claim a lead now: {SKIP_LABELS[reason]}.")
        item = (
            QueueItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(claimed_at__isnull=True, rule__members__rep=rep)
            .select_related("contact", "rule")
            .order_by("created_at", "id")
            .first()
        )
        if item is None:
            return None
        now = timezone.now()
        item.claimed_by, item.claimed_at = rep, now
        item.save(update_fields=["claimed_by", "claimed_at"])
        if item.account_id:
            account_owners_set(changes=[(item.account_id, rep.pk)], reason=OwnershipReason.SIGNAL, actor=actor,
                               note=f"Claimed from queue “{item.rule}”")
        RoutingDecision.objects.create(
            contact=item.contact, account_id=item.account_id, rep=rep, outcome=RoutingDecision.Outcome.RULE,
            rule=item.rule, strategy=Strategy.QUEUE, explanation=f"{rep} claimed it from queue “{item.rule}”.",
            actor=actor_user(actor),
        )
        if lead_cycle_current(contact=item.contact) is None:
            cycle = lead_cycle_open(contact=item.contact, rep=rep, lead_type=LeadType.INBOUND, source=item.contact.source)
            # The campaign the lead arrived with while it waited (issue 19).
            campaign_link_waiting(cycle=cycle, since=item.created_at, actor=actor)
    return item
