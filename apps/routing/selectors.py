"""Reads for routing: rules of engagement, capacities and loads, the pool, retrieval
candidates, the rep picker, and who may review which returns."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, JSONObject, Least
from django.utils import timezone

from apps.accounts.models import Account, Activity
from apps.markets.selectors import accounts_enrolled
from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Rep, Segment
from apps.routing.models import (
    AccountRest,
    CapacityRule,
    Distribution,
    RampInbound,
    RepCapacityOverride,
    ReturnRequest,
    RoutingCredit,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    RulesOfEngagement,
    Seniority,
    Strategy,
)
from sdrops.access import (
    accounts_visible_to,
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


class _JSONBContains(Func):
    arg_joiner = " @> "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def ramp_annotations(rep_ref: str = "pk", prefix: str = "") -> dict:
    """What a ramping rep's book size needs, inside the statement that loads the reps (no
    query of its own, so the routing path keeps its statement count): the rules of
    engagement's starter and growth settings, the rep's number of AE partners, and how many
    committed distributions have dealt to them while ramping (their summary row says
    `"ramping": true`). Reps with no ramp start skip the subqueries (a CASE)."""
    roe = RulesOfEngagement.objects.filter(pk=1)
    ramping = _JSONBContains(F("summary"), Func(JSONObject(rep_id=OuterRef(rep_ref), ramping=Value(True)),
                                                 function="jsonb_build_array"))
    distributions = (
        Distribution.objects.filter(ramping, status=Distribution.Status.COMMITTED)
        .order_by().values("status").annotate(n=Count("*")).values("n")[:1]
    )
    partners = (
        Rep.ae_partners.through.objects.filter(from_rep_id=OuterRef(rep_ref))
        .order_by().values("from_rep_id").annotate(n=Count("*")).values("n")[:1]
    )

    def when_ramping(expression):
        return Case(When(**{f"{prefix}ramp_start__isnull": True}, then=Value(0)),
                    default=Coalesce(expression, Value(0)), output_field=IntegerField())

    return {
        "ramp_distributions": when_ramping(Subquery(distributions)),
        "ae_partner_count": when_ramping(Subquery(partners)),
        "roe_starter_default": Subquery(roe.values("starter_accounts_per_ae")[:1]),
        "roe_starter_by_segment": Subquery(roe.values("starter_accounts_by_segment")[:1]),
        "roe_growth_step": Subquery(roe.values("ramp_growth_step")[:1]),
        "roe_ramp_inbound": Subquery(roe.values("ramp_inbound")[:1]),
    }


def reps_with_capacity(qs: QuerySet[Rep] | None = None) -> QuerySet[Rep]:
    """Reps annotated with base_capacity, load and what a ramping book needs (one query for
    any number of reps)."""
    qs = Rep.objects.all() if qs is None else qs
    return qs.annotate(base_capacity=base_capacity_expression(), load=load_expression(), **ramp_annotations())


@dataclass(frozen=True)
class RampBook:
    """A ramping rep's book: starter accounts (per partner AE) plus a growth step per
    distribution they were dealt in while ramping, never above full capacity."""

    starter: int
    step: int
    distributions: int

    def capacity(self, *, base_capacity: int, planning: bool = False) -> int:
        # Between distributions the book keeps the size the last one gave it; a distribution
        # being planned grows it by one more step.
        steps = self.distributions if planning else max(0, self.distributions - 1)
        return min(base_capacity, self.starter + self.step * steps)


def ramp_book(rep: Rep) -> RampBook:
    """From the annotations of ramp_annotations (defaults when the rep was loaded without them)."""
    by_segment = getattr(rep, "roe_starter_by_segment", None) or {}
    default = getattr(rep, "roe_starter_default", None)
    per_ae = by_segment.get(rep.segment or "")
    per_ae = int(per_ae if per_ae is not None else (default if default is not None else 4))
    step = getattr(rep, "roe_growth_step", None)
    return RampBook(
        starter=per_ae * max(1, getattr(rep, "ae_partner_count", 0) or 0),
        step=5 if step is None else int(step),
        distributions=getattr(rep, "ramp_distributions", 0) or 0,
    )


def effective_capacity(*, rep: Rep, base_capacity: int, on: dt.date, planning: bool = False) -> int:
    """Book size now: 0 while out of office or inactive; full capacity at full ramp; a
    ramping rep's growing book before (issue 18: the ramp factor scales targets, not the book)."""
    if not rep.is_available(on):
        return 0
    if rep.ramp_factor(on) >= 1:
        return base_capacity
    return ramp_book(rep).capacity(base_capacity=base_capacity, planning=planning)


# Inbound rotation weight of a ramping rep by ramp month (RulesOfEngagement.ramp_inbound).
RAMP_INBOUND_WEIGHT = {
    RampInbound.SKIP_MONTH_1: {0.0: 0.0, 0.5: 0.5, 1.0: 1.0},
    RampInbound.WEIGHT_BY_RAMP: {0.0: 0.25, 0.5: 0.5, 1.0: 1.0},
}


def ramp_inbound_weight(*, rep: Rep, on: dt.date) -> float:
    policy = getattr(rep, "roe_ramp_inbound", None) or RampInbound.SKIP_MONTH_1
    return RAMP_INBOUND_WEIGHT.get(policy, RAMP_INBOUND_WEIGHT[RampInbound.SKIP_MONTH_1])[rep.ramp_factor(on)]


def rep_skip_reason(*, rep: Rep, base_capacity: int, load: int, on: dt.date, exclude: frozenset[int] = frozenset()) -> str | None:
    """Why `rep` cannot take one more account now, or None if they can."""
    if rep.pk in exclude:
        return SKIP_EXCLUDED
    if not rep.active:
        return SKIP_INACTIVE
    if rep.is_out_of_office(on):
        return SKIP_OUT_OF_OFFICE
    if ramp_inbound_weight(rep=rep, on=on) == 0:
        return SKIP_UNRAMPED
    if load >= effective_capacity(rep=rep, base_capacity=base_capacity, on=on):
        return SKIP_AT_CAPACITY
    return None


def rep_available(*, rep: Rep, on: dt.date, exclude: frozenset[int] = frozenset()) -> bool:
    """A rep who may keep receiving their own leads (capacity does not matter here)."""
    return rep.pk not in exclude and rep.is_available(on)


def unused_slot_credits(*, rep_ids) -> dict[int, list[int]]:
    """Credit ids per rep not yet used as a first pick in a distribution, oldest first."""
    credits: dict[int, list[int]] = {}
    if not rep_ids:
        return credits
    for pk, rep_id in (RoutingCredit.objects.filter(rep_id__in=list(rep_ids), slot_used_in__isnull=True)
                       .order_by("created_at", "pk").values_list("pk", "rep_id")):
        credits.setdefault(rep_id, []).append(pk)
    return credits


# --- routing rules ----------------------------------------------------------------------


@dataclass
class RuleCandidate:
    rule: RoutingRule
    members: list[RoutingRuleMember] = field(default_factory=list)
    # A partner-AE rule's first candidates past the account's AE: the AE partners of the SDR
    # who owns the account, read with the members (no statement of their own).
    owner_ae_partners: list[Rep] = field(default_factory=list)


# Title words → seniority, checked in this order (the first match wins), on whole words.
SENIORITY_WORDS = (
    (Seniority.C_LEVEL, ("ceo", "cfo", "cto", "coo", "cmo", "cio", "ciso", "cro", "cpo", "chief", "founder", "co-founder",
                         "president", "owner", "managing director")),
    (Seniority.VP, ("vp", "svp", "evp", "avp", "vice president", "head of")),
    (Seniority.DIRECTOR, ("director",)),
    (Seniority.MANAGER, ("manager", "lead", "team lead")),
)


def title_seniority(title: str) -> str:
    """The seniority a job title says: "Chief Revenue Officer", "CEO & Founder" → c_level;
    "SVP Sales" → vp; "Director of IT" → director; "Sales Manager" → manager; any other
    non-empty title → individual; no title → "" (matches no seniority condition)."""
    text = " " + re.sub(r"[^a-z0-9-]+", " ", (title or "").lower()).strip() + " "
    if not text.strip():
        return ""
    if " vice president" in text:
        return Seniority.VP  # before "president"
    for seniority, words in SENIORITY_WORDS:
        if any(f" {word} " in text for word in words):
            return seniority
    return Seniority.INDIVIDUAL


def rule_has_person_conditions(rule: RoutingRule) -> bool:
    return bool(rule.seniorities or rule.personas)


def rule_matches(rule: RoutingRule, *, account: Account, source: str, lead_type: str, contact=None) -> bool:
    tier = account.tier or "-"
    if rule_has_person_conditions(rule):
        if contact is None:
            return False
        if rule.seniorities and title_seniority(contact.title) not in rule.seniorities:
            return False
        if rule.personas and (contact.persona or "").strip().lower() not in {p.strip().lower() for p in rule.personas}:
            return False
    return (
        (not rule.segments or account.segment in rule.segments)
        and (not rule.regions or account.region in rule.regions)
        and (not rule.countries or account.country in rule.countries)
        and (not rule.sources or source in rule.sources)
        and (not rule.lead_types or lead_type in rule.lead_types)
        and (not rule.tiers or tier in rule.tiers)
    )


def person_rule_exists():
    """For the statement that locks a lead's account: whether any active rule has a
    condition on the person (then the rules are read before the owner is), at no statement
    of its own."""
    return Exists(RoutingRule.objects.filter(active=True).exclude(seniorities=[], personas=[]))


# How far back a rule's own decisions are read for the capacity-aware no-burst check.
RECENT_DECISIONS = 50

RAMP_ATTRIBUTES = ("ramp_distributions", "ae_partner_count", "roe_starter_default", "roe_starter_by_segment",
                   "roe_growth_step", "roe_ramp_inbound")


def _owner_ae_partners_expression(owner_id: int | None):
    """The owner SDR's AE partners as full rep rows (JSON), for the rows of partner-AE rules only:
    the subquery does not depend on the row, so PostgreSQL runs it once, and only when such a
    rule is read (CASE evaluates it lazily)."""
    if owner_id is None:
        return Value(None, output_field=JSONField())
    columns = {f.attname: f.attname for f in Rep._meta.concrete_fields}
    partners = ArraySubquery(
        Rep.objects.filter(sdr_partners=owner_id, role=Rep.Role.AE).order_by("pk").values(row=JSONObject(**columns))
    )
    return Case(When(rule__strategy=Strategy.PARTNER_AE, then=partners), default=None)


def _reps_from_json(rows) -> list[Rep]:
    fields = Rep._meta.concrete_fields
    return [Rep.from_db("default", [f.attname for f in fields], [f.to_python(row[f.attname]) for f in fields])
            for row in rows or ()]


def routing_rules_for(*, account: Account, source: str, lead_type: str, contact=None
                      ) -> tuple[RuleCandidate | None, RuleCandidate | None]:
    """(the first active matching rule with a condition on the person, the first active
    matching rule), each with its members annotated with capacity, load and ramp — one
    query whatever the number of rules or reps."""
    # The reps of the rule's latest decisions, newest first (capacity-aware picks hold back
    # a rep who had too many of them); the same small index scan for each member row.
    recent_reps = ArraySubquery(
        RoutingDecision.objects.filter(rule_id=OuterRef("rule_id"), rep__isnull=False)
        .order_by("-id").values("rep_id")[:RECENT_DECISIONS]
    )
    members = (
        RoutingRuleMember.objects.filter(rule__active=True)
        .select_related("rule", "rep__user")
        .annotate(base_capacity=base_capacity_expression_for_member(), load=load_expression("rep_id"),
                  recent_reps=recent_reps, owner_ae_partners=_owner_ae_partners_expression(account.owner_id),
                  **ramp_annotations("rep_id", prefix="rep__"))
        .order_by("rule__position", "rule_id", "order", "id")
    )
    person: RuleCandidate | None = None
    first: RuleCandidate | None = None
    current: RuleCandidate | None = None
    for member in members:
        for name in RAMP_ATTRIBUTES:  # the rep's book and inbound weight read them from the rep
            setattr(member.rep, name, getattr(member, name))
        if current is None or member.rule_id != current.rule.pk:
            if first is not None and (person is not None or not contact):
                break
            current = None
            if rule_matches(member.rule, account=account, source=source, lead_type=lead_type, contact=contact):
                current = RuleCandidate(rule=member.rule, owner_ae_partners=_reps_from_json(member.owner_ae_partners))
                if first is None:
                    first = current
                if person is None and rule_has_person_conditions(member.rule):
                    person = current
        if current is not None:
            current.members.append(member)
    return person, first


def routing_rule_for(*, account: Account, source: str, lead_type: str, contact=None) -> RuleCandidate | None:
    """The first active matching rule (with at least one rep), its members annotated."""
    return routing_rules_for(account=account, source=source, lead_type=lead_type, contact=contact)[1]


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
    # The idle clock pauses while the owner is out of office (issue 18): the days of their
    # leave (from, through to, or still going) after the account was last worked do not count.
    leave_start = Cast("owner__out_of_office_from", DateTimeField())
    leave_end = Least(Coalesce(Cast("owner__out_of_office_to", DateTimeField()) + dt.timedelta(days=1), Value(now)),
                      Value(now))
    paused = Case(
        When(owner__out_of_office_from__isnull=True, then=Value(dt.timedelta(0))),
        default=Greatest(leave_end - Greatest(leave_start, F("last_worked_at")), Value(dt.timedelta(0))),
        output_field=DurationField(),
    )
    qs = (
        # Customers belong to their AE/CSM, not to a book that must be worked to be kept.
        Account.objects.filter(owner__isnull=False).exclude(status=Account.Status.CUSTOMER)
        .annotate(last_worked_at=Greatest(Coalesce(Subquery(last_activity), "owner_since"), "owner_since"))
        .annotate(idle_paused=paused)
        .filter(Q(last_worked_at__lte=cutoff - F("idle_paused")) | Q(last_worked_at__isnull=True))
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
