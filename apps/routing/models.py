"""Routing: rules of engagement, routing rules and their decisions, distributions,
rest periods, the first-come queue and the return/swap queue.

Workflows live in apps.routing.services; these are fields and constraints only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import ActivityType
from apps.leads.models import LeadType
from apps.people.models import Contact, Rep, Segment
from sdrops.singleton import SingletonSettings
from sdrops.state_machines import StateMachine


def default_meaningful_types() -> list[str]:
    return [ActivityType.CALL, ActivityType.EMAIL, ActivityType.SOCIAL, ActivityType.MEETING]


def default_rest_days_by_reason() -> dict[str, int]:
    return {"not_interested": 90}


def default_credit_reasons() -> list[str]:
    return ["duplicate", "bad_data", "no_icp_fit", "meeting_no_show"]


class RampInbound(models.TextChoices):
    SKIP_MONTH_1 = "skip_month_1", "Skip in month 1, half weight in month 2"
    WEIGHT_BY_RAMP = "weight_by_ramp", "Weight by ramp: a quarter in month 1, half in month 2"


CREDIT_REASON_CHOICES = [
    ("duplicate", "Return approved: duplicate"),
    ("bad_data", "Return approved: bad data"),
    ("no_icp_fit", "Return approved: no ICP fit"),
    ("out_of_business", "Return approved: out of business"),
    ("no_relevant_contact", "Return approved: no relevant contact"),
    ("meeting_no_show", "Meeting no-show by the prospect"),
]


class RulesOfEngagement(SingletonSettings):
    """The one set of rules of engagement (a single row, pk 1; `key` is the old handle); edited in the
    admin through apps.routing.services.rules_save so every change is recorded."""

    key = models.CharField(max_length=20, unique=True, default="default", editable=False)
    inactivity_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(15), MaxValueValidator(90)], help_text="Days without meaningful activity before an account is retrieved (15-90)."
    )
    rest_days = models.PositiveSmallIntegerField(
        default=14, validators=[MaxValueValidator(365)], help_text="Days a retrieved or returned account rests before it can be distributed again."
    )
    rest_days_by_reason = models.JSONField(
        default=default_rest_days_by_reason, blank=True,
        help_text='Rest days per return reason overriding the default, e.g. {"not_interested": 90}.',
    )
    meaningful_activity_types = ArrayField(
        models.CharField(max_length=20, choices=ActivityType.choices), default=default_meaningful_types,
        help_text="Activity types that count as working an account (automated touches never count).",
    )
    exempt_open_opportunity = models.BooleanField(default=True, help_text="Never retrieve an account with an open opportunity.")
    exempt_meeting_scheduled = models.BooleanField(default=True, help_text="Never retrieve an account with a meeting scheduled.")
    exempt_pending_return = models.BooleanField(default=True, help_text="Never retrieve an account with a pending return.")
    # Ramp (issue 18): the ramp factor scales targets; the book starts small and grows.
    starter_accounts_per_ae = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="A ramping SDR's first book: this many accounts per partner AE (the seed: 3-5).",
    )
    starter_accounts_by_segment = models.JSONField(
        default=dict, blank=True, help_text='Starter accounts per partner AE by segment, overriding the default, e.g. {"enterprise": 3}.',
    )
    ramp_growth_step = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(1000)],
        help_text="Accounts a ramping SDR's book may grow by at each distribution, until full capacity at full ramp.",
    )
    ramp_inbound = models.CharField(
        max_length=20, choices=RampInbound.choices, default=RampInbound.SKIP_MONTH_1,
        help_text="How inbound rotation treats ramping SDRs.",
    )
    credit_reasons = ArrayField(
        models.CharField(max_length=30, choices=CREDIT_REASON_CHOICES), default=default_credit_reasons, blank=True,
        help_text="What earns a rep a credit (the turn back in the rotation, a first pick in the next distribution).",
    )
    follow_ups_move_with_account = models.BooleanField(
        default=True, db_default=True,
        help_text="When an account changes owner, its open follow-up tasks move to the new owner (off: they stay with "
                  "the rep who logged them).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "rules of engagement"
        verbose_name_plural = "rules of engagement"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="roe_single_row"),
            models.CheckConstraint(
                condition=Q(inactivity_days__gte=15, inactivity_days__lte=90), name="roe_inactivity_days_15_90",
                violation_error_message="Inactivity days must be between 15 and 90.",
            ),
            models.CheckConstraint(condition=Q(rest_days__lte=365), name="roe_rest_days_at_most_365"),
        ]

    def __str__(self) -> str:
        return "Rules of engagement"

    def starter_accounts(self, segment: str) -> int:
        value = (self.starter_accounts_by_segment or {}).get(segment or "")
        return int(value) if value is not None else self.starter_accounts_per_ae


class CapacityRule(models.Model):
    """Book size by role and segment (empty segment = any segment of that role)."""

    role = models.CharField(max_length=10, choices=Rep.Role.choices, default=Rep.Role.SDR)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    capacity = models.PositiveIntegerField(help_text="Target book size (accounts).")

    class Meta:
        ordering = ["role", "segment"]
        constraints = [models.UniqueConstraint(fields=["role", "segment"], name="capacity_rule_role_segment_unique")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.get_segment_display() or 'any segment'}: {self.capacity}"


class RepCapacityOverride(models.Model):
    rep = models.OneToOneField(Rep, on_delete=models.CASCADE, related_name="capacity_override")
    capacity = models.PositiveIntegerField(help_text="This rep's book size, whatever the role/segment rule says.")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["rep"]

    def __str__(self) -> str:
        return f"{self.rep}: {self.capacity}"


class RulesChange(models.Model):
    """Append-only history of every change to the rules of engagement and routing rules."""

    object_type = models.CharField(max_length=50)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=20, default="changed")
    changes = models.JSONField(default=dict, help_text="field → [old, new]")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.object_repr} {self.action} {self.changed_at:%Y-%m-%d %H:%M}"


class Seniority(models.TextChoices):
    C_LEVEL = "c_level", "C-level"
    VP = "vp", "VP"
    DIRECTOR = "director", "Director"
    MANAGER = "manager", "Manager"
    INDIVIDUAL = "individual", "Individual contributor"


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    WEIGHTED_ROUND_ROBIN = "weighted_round_robin", "Weighted round robin"
    CAPACITY_AWARE = "capacity_aware", "Capacity-aware (lowest load ÷ capacity)"
    QUEUE = "queue", "First-come queue (reps claim next)"
    TERRITORY = "territory", "Territory (first available rep in order)"
    POD = "pod", "Pod (the SDR paired with the account's AE)"
    PARTNER_AE = "partner_ae", "Partner AE (past the SDR: the account's AE, else the owner SDR's AE partner)"


class RoutingRule(models.Model):
    """First matching active rule (by position) wins; empty conditions match anything, so a
    rule with none at the end is the fallback."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    active = models.BooleanField(default=True)
    segments = ArrayField(models.CharField(max_length=20, choices=Segment.choices), default=list, blank=True)
    regions = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    countries = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    sources = ArrayField(models.CharField(max_length=20, choices=Contact.Source.choices), default=list, blank=True)
    lead_types = ArrayField(models.CharField(max_length=20, choices=LeadType.choices), default=list, blank=True)
    tiers = ArrayField(models.CharField(max_length=1), default=list, blank=True, help_text="A, B, C; '-' for no ICP match.")
    # Conditions on the person (issue 18): a rule with one is checked before the account's owner.
    seniorities = ArrayField(
        models.CharField(max_length=20, choices=Seniority.choices), default=list, blank=True,
        help_text="The lead's title seniority (from the title: CEO, CFO → C-level; VP; Director; …).",
    )
    personas = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                          help_text="The lead's persona, as on the contact (case ignored).")
    strategy = models.CharField(max_length=30, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    reps = models.ManyToManyField(Rep, through="RoutingRuleMember", related_name="routing_rules", blank=True)
    # Round-robin position: the last rep picked, stored so restarts keep fairness.
    last_rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RoutingRuleMember(models.Model):
    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="members")
    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(default=0)
    # The weight is the rep's own (Rep.routing_weight, issue 18: one weight); members keep
    # only the rotation's state.
    # Smooth weighted round robin state (nginx's algorithm): stored, so restarts keep fairness.
    current_weight = models.BigIntegerField(default=0, editable=False)
    # Turns owed: the share of picks missed while out of office, and credits (a lead or an
    # account taken back for a reason not the rep's). Repaid by doubling the rep's weight.
    leave_turns = models.FloatField(default=0, editable=False)
    credit_turns = models.FloatField(default=0, editable=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "rep"], name="routing_rule_member_unique")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.rep}"


class RoutingDecision(models.Model):
    """Why a lead/account went to whom: the rule, the strategy, who was skipped and why."""

    class Outcome(models.TextChoices):
        OPPORTUNITY_OWNER = "opportunity_owner", "Open opportunity's owner"
        CUSTOMER_OWNER = "customer_owner", "Customer's AE/CSM"
        CURRENT_OWNER = "current_owner", "Account's current owner"
        RULE = "rule", "Routing rule"
        QUEUED = "queued", "Queued for claiming"
        UNMATCHED = "unmatched", "Unmatched (ops queue)"
        NO_REP = "no_rep", "No available rep (ops queue)"

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="routing_decisions")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="routing_decisions"
    )
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    strategy = models.CharField(max_length=30, choices=Strategy.choices, blank=True)
    reason = models.CharField(max_length=20, default="signal", help_text="Ownership reason used (signal, sla_reassignment…).")
    skipped = models.JSONField(default=list, blank=True, help_text="[{rep_id, rep, reason}]")
    explanation = models.TextField(blank=True)
    account_created = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Set when ops dealt with an unmatched lead.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["outcome", "resolved_at"]),
            models.Index(fields=["account", "-decided_at"]),
            # A rule's latest decisions (the capacity-aware no-burst check).
            models.Index(fields=["rule", "-id"], name="routingdecision_rule_latest"),
            # The fairness statement: a rep's decisions, and the ones that skipped them.
            models.Index(fields=["rep", "decided_at"], name="routingdecision_rep_decided"),
            GinIndex(fields=["skipped"], opclasses=["jsonb_path_ops"], name="routingdecision_skipped_gin"),
            # The fairness statement's newest skips: walked newest first, stopping at the list's
            # length (the GIN index finds every decision ever that skipped the reps, then sorts).
            models.Index(fields=["decided_at", "id"], condition=~models.Q(skipped=[]), name="routingdecision_skips_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.contact or self.account} → {self.rep or self.get_outcome_display()}"


class QueueItem(models.Model):
    """A lead waiting in a first-come queue; `queue_claim_next` hands out the oldest."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="queue_items")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact"], condition=Q(claimed_at__isnull=True), name="queue_item_one_open_per_contact"),
            models.CheckConstraint(
                condition=Q(claimed_at__isnull=True) | Q(claimed_by__isnull=False), name="queue_item_claimed_has_rep"
            ),
        ]
        indexes = [models.Index(fields=["rule", "created_at"], condition=Q(claimed_at__isnull=True), name="queue_item_open_idx")]

    def __str__(self) -> str:
        return f"{self.contact} ({'claimed' if self.claimed_at else 'waiting'})"


class AccountRest(models.Model):
    """An account held out of distributions: resting until a date, or held for data fixing
    (until empty) until ops releases it."""

    class Kind(models.TextChoices):
        REST = "rest", "Resting"
        DATA_FIX = "data_fix", "Data fixing"

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="rest")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REST)
    until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=30, blank=True)
    # Get back to me: on this date a readiness signal is added (once).
    signal_on = models.DateField(null=True, blank=True)
    signal_added_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["until"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="data_fix") | Q(until__isnull=False), name="account_rest_has_end")
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.get_kind_display()}"


class Distribution(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", "Preview"
        COMMITTED = "committed", "Committed"
        REFUSED = "refused", "Refused (pool changed)"

    # The one map of allowed moves (apps.routing.services.distribution_transition).
    TRANSITIONS = StateMachine("distribution", {
        Status.PREVIEW: {Status.COMMITTED, Status.REFUSED}, Status.COMMITTED: set(), Status.REFUSED: set(),
    })

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    team = models.ForeignKey("people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    summary = models.JSONField(default=list, help_text="Per rep: book before, adds by tier, book after.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    # A targeted play hands out the play's set instead of the enrolled accounts (apps.markets).
    play = models.ForeignKey("markets.TargetedPlay", null=True, blank=True, on_delete=models.PROTECT, related_name="distributions",
                             verbose_name="targeted play")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Distribution {self.pk} ({self.get_status_display()})"


class DistributionLine(models.Model):
    distribution = models.ForeignKey(Distribution, on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=1, blank=True)
    score = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rep", "-score"]
        constraints = [models.UniqueConstraint(fields=["distribution", "account"], name="distribution_line_account_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.rep_id}"


class ReturnReason(models.TextChoices):
    DUPLICATE = "duplicate", "Duplicate"
    GET_BACK_TO_ME = "get_back_to_me", "Get back to me"
    NO_ICP_FIT = "no_icp_fit", "No ICP fit"
    NO_RELEVANT_CONTACT = "no_relevant_contact", "No relevant contact"
    NOT_INTERESTED = "not_interested", "Not interested"
    OUT_OF_BUSINESS = "out_of_business", "Out of business"
    BAD_DATA = "bad_data", "Bad data"
    RETRIEVAL = "retrieval", "Retrieval (automatic)"


class ReturnOutcome(models.TextChoices):
    REST = "rest", "Rest, then back to the pool"
    DISQUALIFY = "disqualify", "Disqualify"
    MERGE = "merge", "Merge into the duplicate"
    DATA_FIX = "data_fix", "Data fixing, then back to the pool"
    REASSIGN = "reassign", "Reassign to another rep"


class ReturnRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    # The one map of allowed moves (apps.routing.services.return_request_transition): a return
    # is reviewed once.
    TRANSITIONS = StateMachine("return", {
        Status.PENDING: {Status.APPROVED, Status.REJECTED}, Status.APPROVED: set(), Status.REJECTED: set(),
    })

    # SET_NULL: a return approved with "merge" outlives the duplicate it deleted.
    account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="returns")
    account_name = models.CharField(max_length=255, editable=False)
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(max_length=30, choices=ReturnReason.choices)
    note = models.TextField(blank=True)
    duplicate_of = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="For a duplicate: the account that stays.",
    )
    get_back_on = models.DateField(null=True, blank=True, help_text="For get back to me: when to try again.")
    swap_account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The replacement handed to the rep at once (a swap).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=20, choices=ReturnOutcome.choices, blank=True)
    rest_days = models.PositiveSmallIntegerField(null=True, blank=True)
    reassign_to = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    data_fixed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(status="pending"), name="return_one_pending_per_account"),
            models.CheckConstraint(condition=~Q(reason="duplicate") | Q(duplicate_of__isnull=False) | ~Q(status="pending"),
                                   name="return_duplicate_names_survivor"),
            models.CheckConstraint(condition=~Q(reason="get_back_to_me") | Q(get_back_on__isnull=False),
                                   name="return_get_back_to_me_has_date"),
            models.CheckConstraint(condition=Q(status="pending") | Q(reviewed_at__isnull=False) | Q(reason="retrieval"),
                                   name="return_reviewed_has_time"),
        ]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["rep", "reason"])]

    def __str__(self) -> str:
        return f"{self.account_name} · {self.get_reason_display()} ({self.get_status_display()})"


class RoutingCredit(models.Model):
    """A rep's lead or account taken back for a reason that is not theirs: the turn back in
    the rotation that routed it (credit_turns on that rule's member row) and a first pick in
    the next distribution (slot_used_in, set when it is used)."""

    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="routing_credits")
    reason = models.CharField(max_length=30, choices=CREDIT_REASON_CHOICES)
    account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account_name = models.CharField(max_length=255, blank=True)
    return_request = models.OneToOneField(ReturnRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="credit")
    meeting = models.OneToOneField("meetings.Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="routing_credit")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="The rotation that got the turn back (the rule that routed it), if any.")
    slot_used_in = models.ForeignKey(Distribution, null=True, blank=True, on_delete=models.SET_NULL, related_name="credits_used")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rep", "created_at"]),
                   models.Index(fields=["rep"], condition=Q(slot_used_in__isnull=True), name="routing_credit_unused_slot")]

    def __str__(self) -> str:
        return f"{self.rep}: {self.get_reason_display()}"
