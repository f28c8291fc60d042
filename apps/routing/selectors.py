"""Reads for routing: rules of engagement, capacities and loads, the pool, retrieval
candidates, the rep picker, and who may review which returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.accounts.models import Account, Activity
from apps.markets.selectors import accounts_enrolled
from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Rep, Segment
from apps.routing.models import (
    AccountRest,
    CapacityRule,
    RepCapacityOverride,
    ReturnRequest,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    RulesOfEngagement,
)
from sdrops.access import (
    rep_for_user,
    reps_managed_by,
    scoped_rep_ids,
    user_sees_everything,
)

# Skip reasons a routing decision records for each rep it passed over.
SKIP_INACTIVE = "inactive"
SKIP_OUT_OF_OFFICE = "out_of_office"
SKIP_UNRAMPED = "unramped"
SKIP_AT_CAPACITY = "at_capacity"
SKIP_EXCLUDED = "excluded"
SKIP_NOT_POD = "not_pod_partner"


def roe_get() -> RulesOfEngagement:
    return RulesOfEngagement.load()


def rest_days_for(*, roe: RulesOfEngagement, reason: str) -> int:
    value = (roe.rest_days_by_reason or {}).get(reason)
    return int(value) if value is not None else roe.rest_days


# --- open opportunities and meetings (apps.meetings) --------------------------------------


def accounts_with_open_opportunity() -> QuerySet[Account]:
    """Accounts that have an open opportunity: exempt from retrieval, and their leads go
    to the opportunity's owner first."""

    return Account.objects.filter(pk__in=Opportunity.objects.filter(is_open=True).values("account_id"))


def account_open_opportunity_owner(*, account: Account) -> Rep | None:
    """The AE owning the account's open opportunity (the newest, when there are several)."""

    opportunity = (
        Opportunity.objects.filter(account=account, is_open=True).select_related("owner").order_by("-id").first()
    )
    return getattr(opportunity, "owner", None)


def accounts_with_meeting_scheduled(*, now: dt.datetime) -> QuerySet[Account]:
    """Accounts with a meeting still to come (booked, not cancelled or moved): exempt from
    retrieval."""

    return Account.objects.filter(
        pk__in=Meeting.objects.upcoming(now).values("account_id")
    )


# --- capacity and load ----------------------------------------------------------------


def base_capacity_expression():
    """Per-rep override, else the rule for (role, segment), else (role, any), else the rep's own field."""
    override = RepCapacityOverride.objects.filter(rep_id=OuterRef("pk")).values("capacity")[:1]
    exact = CapacityRule.objects.filter(role=OuterRef("role"), segment=OuterRef("segment")).values("capacity")[:1]
    any_segment = CapacityRule.objects.filter(role=OuterRef("role"), segment="").values("capacity")[:1]
    return Coalesce(Subquery(override), Subquery(exact), Subquery(any_segment), "capacity", output_field=IntegerField())


def load_expression(rep_ref: str = "pk"):
    """Open load: accounts in the book, not counting those with a pending return (a swap
    already replaced them, and they leave when the return is approved). Two counts rather
    than one anti-join, so the book count can be answered from the owner index alone."""
    owned = (
        Account.objects.filter(owner_id=OuterRef(rep_ref)).order_by().values("owner_id").annotate(n=Count("*")).values("n")[:1]
    )
    pending = (
        ReturnRequest.objects.filter(rep_id=OuterRef(rep_ref), status=ReturnRequest.Status.PENDING,
                                     account__owner_id=OuterRef(rep_ref))
        .order_by().values("rep_id").annotate(n=Count("pk")).values("n")[:1]
    )
    return Coalesce(Subquery(owned), Value(0), output_field=IntegerField()) - Coalesce(
        Subquery(pending), Value(0), output_field=IntegerField()
    )


def reps_with_capacity(qs: QuerySet[Rep] | None = None) -> QuerySet[Rep]:
    """Reps annotated with base_capacity and load (one query for any number of reps)."""
    qs = Rep.objects.all() if qs is None else qs
    return qs.annotate(base_capacity=base_capacity_expression(), load=load_expression())


def effective_capacity(*, rep: Rep, base_capacity: int, on: dt.date) -> int:
    if not rep.is_available(on):
        return 0
    return int(base_capacity * rep.ramp_factor(on))


def rep_skip_reason(*, rep: Rep, base_capacity: int, load: int, on: dt.date, exclude: frozenset[int] = frozenset()) -> str | None:
    """Why `rep` cannot take one more account now, or None if they can."""
    if rep.pk in exclude:
        return SKIP_EXCLUDED
    if not rep.active:
        return SKIP_INACTIVE
    if rep.is_out_of_office(on):
        return SKIP_OUT_OF_OFFICE
    if rep.ramp_factor(on) == 0:
        return SKIP_UNRAMPED
    if load >= effective_capacity(rep=rep, base_capacity=base_capacity, on=on):
        return SKIP_AT_CAPACITY
    return None


def rep_available(*, rep: Rep, on: dt.date, exclude: frozenset[int] = frozenset()) -> bool:
    """A rep who may keep receiving their own leads (capacity does not matter here)."""
    return rep.pk not in exclude and rep.is_available(on)


# --- routing rules ----------------------------------------------------------------------


@dataclass
class RuleCandidate:
    rule: RoutingRule
    members: list[RoutingRuleMember] = field(default_factory=list)


def rule_matches(rule: RoutingRule, *, account: Account, source: str, lead_type: str) -> bool:
    tier = account.tier or "-"
    return (
        (not rule.segments or account.segment in rule.segments)
        and (not rule.regions or account.region in rule.regions)
        and (not rule.countries or account.country in rule.countries)
        and (not rule.sources or source in rule.sources)
        and (not rule.lead_types or lead_type in rule.lead_types)
        and (not rule.tiers or tier in rule.tiers)
    )


# How far back a rule's own decisions are read for the capacity-aware no-burst check.
RECENT_DECISIONS = 50


def routing_rule_for(*, account: Account, source: str, lead_type: str) -> RuleCandidate | None:
    """The first active matching rule (with at least one rep), its members annotated with
    capacity and load. One query whatever the number of accounts or leads."""
    # The reps of the rule's latest decisions, newest first (capacity-aware picks hold back
    # a rep who had too many of them); the same small index scan for each member row.
    recent_reps = ArraySubquery(
        RoutingDecision.objects.filter(rule_id=OuterRef("rule_id"), rep__isnull=False)
        .order_by("-id").values("rep_id")[:RECENT_DECISIONS]
    )
    members = (
        RoutingRuleMember.objects.filter(rule__active=True)
        .select_related("rule", "rep")
        .annotate(base_capacity=base_capacity_expression_for_member(), load=load_expression("rep_id"),
                  recent_reps=recent_reps)
        .order_by("rule__position", "rule_id", "order", "id")
    )
    chosen: RuleCandidate | None = None
    for member in members:
        if chosen is not None and member.rule_id != chosen.rule.pk:
            break
        if chosen is None:
            if not rule_matches(member.rule, account=account, source=source, lead_type=lead_type):
                continue
            chosen = RuleCandidate(rule=member.rule)
        chosen.members.append(member)
    return chosen


def base_capacity_expression_for_member():
    override = RepCapacityOverride.objects.filter(rep_id=OuterRef("rep_id")).values("capacity")[:1]
    exact = CapacityRule.objects.filter(role=OuterRef("rep__role"), segment=OuterRef("rep__segment")).values("capacity")[:1]
    any_segment = CapacityRule.objects.filter(role=OuterRef("rep__role"), segment="").values("capacity")[:1]
    return Coalesce(Subquery(override), Subquery(exact), Subquery(any_segment), "rep__capacity", output_field=IntegerField())


# --- pool, books, retrieval -------------------------------------------------------------


def resting_account_ids(*, now: dt.datetime) -> QuerySet:
    return AccountRest.objects.filter(Q(kind=AccountRest.Kind.DATA_FIX) | Q(until__gt=now)).values("account_id")


def pool_accounts(*, segment: str | None, now: dt.datetime, play=None) -> QuerySet[Account]:
    """Accounts a distribution (or a swap, or signal routing) may hand out: enrolled (market
    segment B, apps.markets — or the targeted play's set instead), unowned, not resting or
    held for data fixing, not disqualified or a customer, ICP-matched; best total score first.
    A retrieved or returned account re-enters through here, so only an enrolled one returns."""
    qs = accounts_enrolled(play=play).filter(owner__isnull=True, matched_icp__isnull=False, status__in=[
        Account.Status.PROSPECT, Account.Status.ACTIVE,
    ]).exclude(tier="").exclude(pk__in=resting_account_ids(now=now))
    if segment is not None:
        qs = qs.filter(segment=segment)
    return qs.order_by("-total_score", "pk")


def book_for_rep(*, rep: Rep) -> QuerySet[Account]:
    return Account.objects.filter(owner=rep).order_by("-total_score", "pk")


def retrieval_candidates(*, now: dt.datetime, roe: RulesOfEngagement | None = None) -> QuerySet[Account]:
    """Owned accounts whose later of (last meaningful activity, assignment) is at least
    `inactivity_days` ago, minus the exempt ones. Annotated with `last_worked_at`."""
    roe = roe or roe_get()
    cutoff = now - dt.timedelta(days=roe.inactivity_days)
    last_activity = (
        Activity.objects.filter(account_id=OuterRef("pk"), type__in=roe.meaningful_activity_types, automated=False)
        .order_by()
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values("last")[:1]
    )
    qs = (
        # Customers belong to their AE/CSM, not to a book that must be worked to be kept.
        Account.objects.filter(owner__isnull=False).exclude(status=Account.Status.CUSTOMER)
        .annotate(last_worked_at=Greatest(Coalesce(Subquery(last_activity), "owner_since"), "owner_since"))
        .filter(Q(last_worked_at__lte=cutoff) | Q(last_worked_at__isnull=True))
    )
    if roe.exempt_pending_return:
        qs = qs.exclude(Exists(ReturnRequest.objects.filter(account_id=OuterRef("pk"), status=ReturnRequest.Status.PENDING)))
    if roe.exempt_open_opportunity:
        qs = qs.exclude(pk__in=accounts_with_open_opportunity().values("pk"))
    if roe.exempt_meeting_scheduled:
        qs = qs.exclude(pk__in=accounts_with_meeting_scheduled(now=now).values("pk"))
    return qs.order_by("pk")


# --- returns ------------------------------------------------------------------------------


OWN_BOOK_ONLY = "You can only return accounts in your own book."


def account_in_own_book(*, account, rep: Rep | None) -> bool:
    """The returns rule "only your own book": a rep files a return or swap only for an
    account they own (the service enforces it on the locked row; the screens check it first)."""
    return rep is not None and account.owner_id == rep.pk


def may_review_returns(*, user) -> bool:
    """Who reviews returns at all: ops (and superusers), or a manager holding the review
    permission (routing.change_returnrequest). Which returns: returns_reviewable_by."""
    if user_sees_everything(user):
        return True
    rep = rep_for_user(user)
    return rep is not None and rep.role == Rep.Role.MANAGER and user.has_perm("routing.change_returnrequest")


def returns_reviewable_by(*, user) -> QuerySet[ReturnRequest]:
    """Ops review every return; a manager reviews their people's."""
    qs = ReturnRequest.objects.select_related("account", "rep", "duplicate_of", "swap_account")
    if user_sees_everything(user):
        return qs
    if not may_review_returns(user=user):
        return qs.none()
    return qs.filter(rep__in=reps_managed_by(rep=rep_for_user(user)))


def reps_assignable_by(*, user) -> QuerySet[Rep]:
    """The SDRs `user` may hand an account to when reviewing a return (outcome reassign):
    ops and the system (None) any active SDR; a manager the active SDRs they see (their
    teams, scoped_rep_ids); nobody else anyone."""
    qs = Rep.objects.filter(role=Rep.Role.SDR, active=True)
    if user is None or user_sees_everything(user):
        return qs
    return qs.filter(pk__in=scoped_rep_ids(user=user) or [])


def return_survivor_visible(*, user, return_request: ReturnRequest) -> Account | None:
    """The account a duplicate return names as the one that stays, if `user` may see it
    (None, the system, sees every account); None when it is gone or outside their scope —
    the two are answered alike."""
    from apps.accounts.selectors import accounts_visible_to

    if return_request.duplicate_of_id is None:
        return None
    qs = Account.objects.all() if user is None else accounts_visible_to(user=user)
    return qs.filter(pk=return_request.duplicate_of_id).first()


def today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(now or timezone.now())




def distribution_summary_rows(distribution) -> list[dict]:
    """A distribution's per-rep summary with segment labels and how far a book ends above its
    capacity (e.g. 163 of 120 is 43 over), for the preview page."""
    segments = dict(Segment.choices)
    return [
        {**row, "segment_label": segments.get(row.get("segment"), row.get("segment") or ""),
         "over": max(0, (row.get("book_after") or 0) - (row.get("capacity") or 0))}
        for row in distribution.summary
    ]
