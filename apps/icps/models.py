from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.people.models import Segment
from sdrops.singleton import SingletonSettings

# Category caps: fit 0-40, opportunity 0-30, readiness 0-30 (seed 000, "ICP Utilization Review").
CATEGORY_CAPS = {"fit": 40, "opportunity": 30, "readiness": 30}


def _number(value) -> str:
    return f"{value.normalize():,f}" if hasattr(value, "normalize") else f"{value:,}"


class ICP(models.Model):
    """An ideal customer profile: qualifiers and weighted scoring rules (see apps.icps.scoring)."""

    name = models.CharField(max_length=120, unique=True)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "ICP"
        verbose_name_plural = "ICPs"

    def __str__(self) -> str:
        return self.name


class SignalType(models.Model):
    """A kind of timing/growth signal. Signals older than `lifetime_days` stop counting,
    which is what makes readiness decay without anyone touching the account."""

    class Kind(models.TextChoices):
        EVENT = "event", "Event (counted)"
        DATED = "dated", "Dated (carries a date)"
        NUMERIC = "numeric", "Numeric (carries a value)"

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EVENT)
    lifetime_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days after it occurred that a signal still counts; empty = forever."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Signal(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="signals")
    type = models.ForeignKey(SignalType, on_delete=models.PROTECT, related_name="signals")
    occurred_at = models.DateTimeField(default=timezone.now)
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    date = models.DateField(null=True, blank=True, help_text="For dated signals: renewal date, get-back-to-me date…")
    source = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # The same signal from the same source at the same instant is one signal:
            # re-importing a file adds nothing.
            models.UniqueConstraint(fields=["account", "type", "occurred_at", "source"], name="signal_unique_occurrence"),
        ]
        indexes = [models.Index(fields=["account", "type", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.type} · {self.occurred_at:%Y-%m-%d}"


class Rule(models.Model):
    """A qualifier (must hold for the ICP to match at all) or a scoring rule (gives points)."""

    class Category(models.TextChoices):
        QUALIFIER = "qualifier", "Qualifier (must match)"
        FIT = "fit", "Fit (max 40)"
        OPPORTUNITY = "opportunity", "Opportunity (max 30)"
        READINESS = "readiness", "Readiness (max 30)"

    class Condition(models.TextChoices):
        INDUSTRY_IN = "industry_in", "Industry is one of"
        INDUSTRY_NOT_IN = "industry_not_in", "Industry is none of"
        EMPLOYEES_BETWEEN = "employees_between", "Employees between"
        REVENUE_BETWEEN = "revenue_between", "Annual revenue between"
        COUNTRY_IN = "country_in", "Country is one of"
        REGION_IN = "region_in", "Region is one of"
        SEGMENT_IN = "segment_in", "Segment is one of"
        TECHNOLOGY_PRESENT = "technology_present", "Uses any of the technologies"
        SIGNAL_COUNT = "signal_count", "Signal seen at least N times in the last D days"
        SIGNAL_DATE_UPCOMING = "signal_date_upcoming", "Dated signal falls in the next D days"
        SIGNAL_DATE_REACHED = "signal_date_reached", "Dated signal reached (within the last D days)"
        SIGNAL_VALUE_AT_LEAST = "signal_value_at_least", "Latest numeric signal at or above N"

    LIST_CONDITIONS = {
        Condition.INDUSTRY_IN, Condition.INDUSTRY_NOT_IN, Condition.COUNTRY_IN, Condition.REGION_IN,
        Condition.SEGMENT_IN, Condition.TECHNOLOGY_PRESENT,
    }
    RANGE_CONDITIONS = {Condition.EMPLOYEES_BETWEEN, Condition.REVENUE_BETWEEN}
    SIGNAL_CONDITIONS = {
        Condition.SIGNAL_COUNT, Condition.SIGNAL_DATE_UPCOMING, Condition.SIGNAL_DATE_REACHED,
        Condition.SIGNAL_VALUE_AT_LEAST,
    }

    icp = models.ForeignKey(ICP, on_delete=models.CASCADE, related_name="rules")
    category = models.CharField(max_length=12, choices=Category.choices)
    condition = models.CharField(max_length=30, choices=Condition.choices)
    values = ArrayField(
        models.CharField(max_length=100), default=list, blank=True,
        help_text="Comma-separated list for 'one of' conditions (segments by code: smb, mid_market, enterprise, pubsec).",
    )
    minimum = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True,
        help_text="Range low end, signal count N, or numeric threshold.",
    )
    maximum = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, help_text="Range high end.")
    signal_type = models.ForeignKey(SignalType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveIntegerField(null=True, blank=True, help_text="Window D in days for signal conditions.")
    points = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["icp", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(category="qualifier") | Q(points=0), name="rule_qualifier_gives_no_points"
            ),
            models.CheckConstraint(
                condition=Q(minimum__isnull=True) | Q(maximum__isnull=True) | Q(maximum__gte=models.F("minimum")),
                name="rule_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        label = self.get_condition_display()
        c = self.Condition
        if self.condition == c.SEGMENT_IN:
            labels = dict(Segment.choices)
            return f"{label} {', '.join(str(labels.get(v, v)) for v in self.values)}"
        if self.condition in self.LIST_CONDITIONS:
            return f"{label} {', '.join(self.values)}"
        if self.condition in self.RANGE_CONDITIONS:
            low = "…" if self.minimum is None else _number(self.minimum)
            high = "…" if self.maximum is None else _number(self.maximum)
            return f"{label} {low} and {high}"
        signal = self.signal_type.name if self.signal_type_id else "?"
        if self.condition == c.SIGNAL_COUNT:
            return f"{signal} at least {self.minimum or 1:.0f}× in the last {self.days} days"
        # "Competitor renewal date" already says date; "Get back to me" does not.
        dated = signal if signal.lower().endswith("date") else f"{signal} date"
        if self.condition == c.SIGNAL_DATE_UPCOMING:
            return f"{dated} in the next {self.days} days"
        if self.condition == c.SIGNAL_DATE_REACHED:
            window = f" (within the last {self.days} days)" if self.days is not None else ""
            return f"{dated} reached{window}"
        return f"latest {signal} ≥ {_number(self.minimum)}" if self.minimum is not None else f"latest {signal}"

    def clean(self):
        c = self.Condition
        errors: dict[str, str] = {}
        if self.category == self.Category.QUALIFIER and self.points:
            errors["points"] = "A qualifier gives no points; it decides whether the ICP matches at all."
        if self.category != self.Category.QUALIFIER and not self.points:
            errors["points"] = "A scoring rule must give at least 1 point."
        if self.condition in self.LIST_CONDITIONS and not [v for v in self.values if v.strip()]:
            errors["values"] = "List at least one value."
        if self.condition == c.SEGMENT_IN:

            unknown = [v for v in self.values if v not in Segment.values]
            if unknown:
                errors["values"] = f"Unknown segment {', '.join(unknown)}; expected {', '.join(Segment.values)}."
        if self.condition in self.RANGE_CONDITIONS and self.minimum is None and self.maximum is None:
            errors["minimum"] = "Give a low end, a high end or both."
        if self.condition in self.SIGNAL_CONDITIONS:
            if not self.signal_type_id:
                errors["signal_type"] = "Pick the signal type this rule looks at."
            elif self.condition in {c.SIGNAL_DATE_UPCOMING, c.SIGNAL_DATE_REACHED} and self.signal_type.kind != SignalType.Kind.DATED:
                errors["signal_type"] = f"{self.signal_type} carries no date."
            elif self.condition == c.SIGNAL_VALUE_AT_LEAST and self.signal_type.kind != SignalType.Kind.NUMERIC:
                errors["signal_type"] = f"{self.signal_type} carries no value."
        if self.condition in {c.SIGNAL_COUNT, c.SIGNAL_DATE_UPCOMING} and not self.days:
            errors["days"] = "Give the window in days."
        if self.condition == c.SIGNAL_COUNT and self.minimum is not None and self.minimum < 1:
            errors["minimum"] = "A signal must be seen at least once."
        if self.condition == c.SIGNAL_VALUE_AT_LEAST and self.minimum is None:
            errors["minimum"] = "Give the threshold."
        if self.minimum is not None and self.maximum is not None and self.maximum < self.minimum:
            errors["maximum"] = "The high end is below the low end."
        if errors:
            raise ValidationError(errors)


class ScoringSettings(SingletonSettings):
    """The one row of tier and quadrant thresholds (editable, applied at the next rescoring)."""

    tier_a_min = models.PositiveSmallIntegerField(default=70, verbose_name="tier A from total")
    tier_b_min = models.PositiveSmallIntegerField(default=40, verbose_name="tier B from total")
    fit_threshold = models.PositiveSmallIntegerField(default=24, help_text="Fit score at or above this counts as fit.")
    readiness_threshold = models.PositiveSmallIntegerField(
        default=15, help_text="Readiness score at or above this counts as in market."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "scoring settings"
        verbose_name_plural = "scoring settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="scoring_settings_single_row"),
            models.CheckConstraint(
                condition=Q(tier_a_min__gt=models.F("tier_b_min")) & Q(tier_a_min__lte=100),
                name="scoring_settings_tiers_ordered",
            ),
        ]

    def __str__(self) -> str:
        return "Tier and quadrant thresholds"

    def clean(self):
        if self.tier_a_min is not None and self.tier_b_min is not None and self.tier_a_min <= self.tier_b_min:
            raise ValidationError({"tier_a_min": "Tier A must start above tier B."})
        if self.tier_a_min is not None and self.tier_a_min > 100:
            raise ValidationError({"tier_a_min": "Totals never exceed 100."})


class Quadrant(models.TextChoices):
    GOOD_PLACE = "good_place", "The Good Place"
    GET_BACK_TO_ME = "get_back_to_me", "Get Back To Me"
    FALSE_HOPE = "false_hope", "False Hope"
    BAD_PLACE = "bad_place", "The Bad Place"


class ScoreHistory(models.Model):
    """A row whenever an account's tier or quadrant changes (written by the rescoring statement)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="score_history")
    changed_at = models.DateTimeField(default=timezone.now)
    icp = models.ForeignKey(ICP, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    old_tier = models.CharField(max_length=1, blank=True)
    new_tier = models.CharField(max_length=1, blank=True)
    old_quadrant = models.CharField(max_length=20, blank=True, choices=Quadrant.choices)  # labels on pages
    new_quadrant = models.CharField(max_length=20, blank=True, choices=Quadrant.choices)
    fit_score = models.PositiveSmallIntegerField(default=0)
    opportunity_score = models.PositiveSmallIntegerField(default=0)
    readiness_score = models.PositiveSmallIntegerField(default=0)
    total_score = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name_plural = "score history"
        indexes = [models.Index(fields=["account", "-changed_at"]), models.Index(fields=["changed_at"])]

    def __str__(self) -> str:
        return f"{self.old_tier or '–'} → {self.new_tier or '–'} · {self.changed_at:%Y-%m-%d}"


class ICPChange(models.Model):
    """Who changed what on an ICP (fields and rules, old → new)."""

    icp = models.ForeignKey(ICP, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    icp_name = models.CharField(max_length=120)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=10, choices=[("create", "Created"), ("update", "Changed"), ("delete", "Deleted")])
    # {"fields": {name: [old, new]}, "rules_added": [...], "rules_removed": [...], "rules_changed": [[old, new], ...]}
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = "ICP change"

    def __str__(self) -> str:
        return f"{self.icp_name} · {self.get_action_display()} · {self.changed_at:%Y-%m-%d %H:%M}"


class ResearchCategory(models.Model):
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "research categories"

    def __str__(self) -> str:
        return self.name


class ResearchItem(models.Model):
    """One ticked checklist category on one account."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="research_items")
    category = models.ForeignKey(ResearchCategory, on_delete=models.CASCADE, related_name="items")
    done_at = models.DateTimeField(default=timezone.now)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activity = models.ForeignKey(
        "accounts.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="research_items"
    )

    class Meta:
        ordering = ["category__position", "category_id"]
        constraints = [models.UniqueConstraint(fields=["account", "category"], name="research_item_once_per_account")]

    def __str__(self) -> str:
        return f"{self.category} ✓"
