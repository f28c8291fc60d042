"""Where an account sits in the market, and how well the team covers and engages it.

Two classifications, each from a seed:

* the **market segment** (SPA framework, seed 003): TAM ⊃ SAM ⊃ SOM crossed with "in the
  CRM or not" gives the seven segments A-G. Ops maintain it by ordered rules (first match
  wins) with a manual override that carries its reason; every change is a row of
  `MarketSegmentChange`. Segment B — the SOM accounts in the CRM — are the *enrolled*
  accounts: the only ones a distribution, signal routing or a re-introduction hands out
  (apps.markets.selectors.accounts_enrolled), except in a recorded targeted play.
* **coverage × engagement** (Measurable Lead Model, seed 004): computed on read from the
  account's contacts and their touches (apps.markets.coverage); `CoverageSettings` holds
  the editable list of buying roles / personas a purchase needs and the thresholds.

Neither is the ICP quadrant on Account (`Account.quadrant`: fit × timing from scoring).
Workflows live in apps.markets.services; these are fields and constraints only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Account
from apps.people.models import Contact, Segment
from sdrops.singleton import SingletonSettings


class MarketSegment(models.TextChoices):
    # The labels are the seed's (Erik Huddleston's names, seed 003).
    A = "A", "A · the giant hole in demand gen (SOM, not in the CRM)"
    B = "B", "B · accounts you should be working (SOM, in the CRM)"
    C = "C", "C · hold my beer (SAM, in the CRM)"
    D = "D", "D · sins of your youth (TAM, in the CRM)"
    E = "E", "E · forbidden fruit (SAM, not in the CRM)"
    F = "F", "F · growth delusion (TAM, not in the CRM)"
    G = "G", "G · garbage (outside the TAM, in the CRM)"


class Market(models.TextChoices):
    SOM = "som", "SOM (serviceable obtainable market)"
    SAM = "sam", "SAM (serviceable addressable market)"
    TAM = "tam", "TAM (total addressable market)"
    OUTSIDE = "outside", "Outside the TAM"


# The innermost ring each segment is in (SOM ⊂ SAM ⊂ TAM), and which segments are the CRM's
# "inside world" (sales lives in B-C-D-G, marketing in A-E-F).
SEGMENT_MARKET = {"A": Market.SOM, "B": Market.SOM, "C": Market.SAM, "E": Market.SAM,
                  "D": Market.TAM, "F": Market.TAM, "G": Market.OUTSIDE}
IN_CRM = frozenset("BCDG")
# The wall around the pool: "enrolled accounts ... constrain them to those that are in your
# SOM". A is SOM too but outside the CRM (marketing's job: move A into B), so only B.
ENROLLED = ("B",)


def segment_short(value: str) -> str:
    return value or "—"


class MarketSegmentRule(models.Model):
    """One rule: accounts meeting every condition set here get `segment`. Rules run in
    `position` order and the first match wins; an account no rule matches is unclassified
    (never enrolled). A rule with no conditions catches everything left."""

    class IcpFit(models.TextChoices):
        ANY = "", "Any"
        FIT = "fit", "ICP matched and fit score at or above the fit threshold"
        MATCHED = "matched", "ICP matched (any fit score)"
        WEAK = "weak", "ICP matched, fit score below the fit threshold"
        NONE = "none", "No ICP match"

    class DataQuality(models.TextChoices):
        ANY = "", "Any"
        COMPLETE = "complete", "Complete (domain, industry, employees and country known)"
        INCOMPLETE = "incomplete", "Incomplete (domain, industry, employees or country missing)"

    position = models.PositiveSmallIntegerField(default=0, help_text="Lower runs first; the first matching rule wins.")
    name = models.CharField(max_length=120)
    segment = models.CharField(max_length=1, choices=MarketSegment.choices)
    active = models.BooleanField(default=True)
    statuses = ArrayField(models.CharField(max_length=20, choices=Account.Status.choices), default=list, blank=True,
                          help_text="Account status is one of (empty: any).")
    size_segments = ArrayField(models.CharField(max_length=20, choices=Segment.choices), default=list, blank=True,
                               verbose_name="size segments", help_text="SMB / Mid-Market / Enterprise / PubSec is one of (empty: any).")
    industries = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                            help_text="Industry is one of, ignoring case (comma-separated; empty: any).")
    countries = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                           help_text="Country is one of, ignoring case (comma-separated; empty: any).")
    employees_min = models.PositiveIntegerField(null=True, blank=True)
    employees_max = models.PositiveIntegerField(null=True, blank=True)
    revenue_min = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    revenue_max = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    icp_fit = models.CharField("ICP fit", max_length=10, choices=IcpFit.choices, blank=True, default="")
    data_quality = models.CharField(max_length=10, choices=DataQuality.choices, blank=True, default="")
    note = models.CharField(max_length=300, blank=True, help_text="Why this rule exists (shown with each classification).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(employees_min__isnull=True) | Q(employees_max__isnull=True) | Q(employees_max__gte=models.F("employees_min")),
                name="market_rule_employees_ordered"),
            models.CheckConstraint(
                condition=Q(revenue_min__isnull=True) | Q(revenue_max__isnull=True) | Q(revenue_max__gte=models.F("revenue_min")),
                name="market_rule_revenue_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name} → {self.segment}"


class AccountMarket(models.Model):
    """An account's market segment: what the rules say, the manual override (with who and
    why), and the effective segment the wall reads. No row: never classified."""

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE, related_name="market")
    segment = models.CharField(max_length=1, choices=MarketSegment.choices, blank=True,
                               help_text="Effective segment: the override if set, else the rules' answer.")
    rule_segment = models.CharField(max_length=1, choices=MarketSegment.choices, blank=True)
    rule = models.ForeignKey(MarketSegmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    classified_at = models.DateTimeField(null=True, blank=True)
    override_segment = models.CharField(max_length=1, choices=MarketSegment.choices, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    override_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["segment"], name="account_market_segment"),
                   # The segment view's G accounts, oldest classification first, 200 shown: read in
                   # index order (200 lookups) instead of joining every account (reports, issue 16).
                   models.Index(fields=["segment", "classified_at", "account"], name="account_market_segment_since")]
        constraints = [
            models.CheckConstraint(condition=Q(override_segment="") | ~Q(override_reason=""),
                                   name="account_market_override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.segment or 'unclassified'}"

    @property
    def enrolled(self) -> bool:
        return self.segment in ENROLLED


class MarketSegmentChange(models.Model):
    """Append-only: every move of an account's effective segment, by the rules (which rule)
    or by hand (who and why). The segment view's movement over time is read from here."""

    class Source(models.TextChoices):
        RULES = "rules", "Rules"
        OVERRIDE = "override", "Manual override"
        OVERRIDE_CLEARED = "override_cleared", "Override removed (back to the rules)"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="market_changes")
    from_segment = models.CharField(max_length=1, blank=True)
    to_segment = models.CharField(max_length=1, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    rule = models.ForeignKey(MarketSegmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=120, blank=True, help_text="The rule's name when it decided.")
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text="Empty when the scheduled classification made the change.")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="market_change_when"),
            models.Index(fields=["account", "-occurred_at"], name="market_change_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_segment or '—'} → {self.to_segment or '—'} ({self.get_source_display()})"


class TargetedPlay(models.Model):
    """A named set of accounts outside the wall that a distribution may hand out on purpose —
    "distributions to run targeted plays that probe that barrier intentionally" (seed 003).
    The set: accounts whose market segment is one of `segments`, plus the accounts listed."""

    name = models.CharField(max_length=120, unique=True)
    purpose = models.CharField(max_length=300, help_text="What the play tests, e.g. “Can we win mid-market C accounts in fintech?”")
    segments = ArrayField(models.CharField(max_length=1, choices=MarketSegment.choices), default=list, blank=True,
                          help_text="Market segments in the play (e.g. C).")
    accounts = models.ManyToManyField(Account, blank=True, related_name="+", help_text="Accounts named one by one.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_required_roles() -> list[str]:
    return [Contact.BuyingRole.DECISION_MAKER, Contact.BuyingRole.CHAMPION, Contact.BuyingRole.INFLUENCER]


class CoverageSettings(SingletonSettings):
    """What "covered" and "engaged" mean (seed 004, account coverage × engagement)."""

    required_buying_roles = ArrayField(
        models.CharField(max_length=20, choices=Contact.BuyingRole.choices), default=default_required_roles, blank=True,
        help_text="Buying roles a purchase needs: an account is covered when it has a contact in each.",
    )
    required_personas = ArrayField(
        models.CharField(max_length=100), default=list, blank=True,
        help_text="Personas a purchase needs (matched to the contact's persona, ignoring case); comma-separated.",
    )
    min_contacts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Contacts known at least, for an account to count as covered.")
    engagement_window_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Touches in this many days count towards engagement.")
    engaged_min_touches = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Touches in the window, at least, for engaged.")
    recency_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="The last touch must be at most this many days old, for engaged.")

    class Meta:
        verbose_name = "coverage and engagement settings"
        verbose_name_plural = "coverage and engagement settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="coverage_settings_single_row")]

    def __str__(self) -> str:
        return "Coverage and engagement settings"
