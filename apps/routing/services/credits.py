"""Credits (issue 18): a rep whose lead or account was taken back for a reason that is not
theirs — an approved return of a duplicate, bad data or no ICP fit, a meeting the prospect did
not show up to — gets the turn back in the rotation that routed it and a first pick in the
next distribution. What earns one is RulesOfEngagement.credit_reasons; every credit is a row
(RoutingCredit) with its reason, read by the fairness statement."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F

from apps.people.models import Rep
from apps.routing import selectors
from apps.routing.models import RoutingCredit, RoutingDecision, RoutingRuleMember, Strategy

logger = logging.getLogger(__name__)

ROTATIONS = (Strategy.ROUND_ROBIN, Strategy.WEIGHTED_ROUND_ROBIN)


def credit_grant(*, rep: Rep, reason: str, account=None, return_request=None, meeting=None, note: str = "",
                 account_name: str = "") -> RoutingCredit | None:
    """Record a credit when `reason` earns one (None otherwise, or when this return or
    meeting already earned its credit: granting twice does no harm). The turn goes to the
    member row of the rotation rule whose latest decision gave the rep this account."""
    if reason not in (selectors.roe_get().credit_reasons or ()):
        return None
    with transaction.atomic():
        lookup = {"return_request": return_request} if return_request is not None else (
            {"meeting": meeting} if meeting is not None else None)
        if lookup and RoutingCredit.objects.filter(**lookup).exists():
            return None
        rule_id = None
        if account is not None:
            rule_id = (RoutingDecision.objects.filter(account=account, rep=rep, rule__isnull=False, strategy__in=ROTATIONS)
                       .order_by("-decided_at", "-id").values_list("rule_id", flat=True).first())
        credit = RoutingCredit.objects.create(
            rep=rep, reason=reason, account=account, account_name=account_name or (str(account) if account else ""),
            return_request=return_request, meeting=meeting, rule_id=rule_id, note=note[:300],
        )
        if rule_id is not None:
            RoutingRuleMember.objects.filter(rule_id=rule_id, rep=rep).update(credit_turns=F("credit_turns") + 1)
    return credit
