from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from apps.people.contact_fields import normalize_linkedin_url, validate_linkedin_url


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-Market"
    ENTERPRISE = "enterprise", "Enterprise"
    PUBSEC = "pubsec", "PubSec"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rep(models.Model):
    class Role(models.TextChoices):
        SDR = "sdr", "SDR"
        AE = "ae", "AE"
        MANAGER = "manager", "Manager"
        OPS = "ops", "Ops admin"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep")
    # The name CRMs export as `company_owner`; imports match it ignoring case and spacing.
    owner_name = models.CharField(max_length=150)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.SDR)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    capacity = models.PositiveIntegerField(default=100, help_text="Target book size (accounts).")
    routing_weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    ramp_start = models.DateField(null=True, blank=True, help_text="Targets are 0% in month 1, 50% in month 2, 100% from month 3.")
    out_of_office_from = models.DateField(null=True, blank=True)
    out_of_office_to = models.DateField(null=True, blank=True)
    ae_partners = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="sdr_partners",
        help_text="The AEs this SDR books meetings for (pods of 2:1 or 3:1).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["owner_name"]
        constraints = [
            models.UniqueConstraint(Lower("owner_name"), name="rep_owner_name_unique_ci"),
            models.CheckConstraint(condition=Q(routing_weight__gte=0), name="rep_routing_weight_non_negative"),
            models.CheckConstraint(
                condition=Q(out_of_office_from__isnull=True)
                | Q(out_of_office_to__isnull=True)
                | Q(out_of_office_to__gte=models.F("out_of_office_from")),
                name="rep_out_of_office_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["role", "active"])]

    def __str__(self) -> str:
        return self.owner_name

    def ramp_factor(self, on: dt.date | None = None) -> float:
        """0 in the first month from ramp start, 0.5 in the second, 1 from the third."""
        if self.ramp_start is None:
            return 1.0
        on = on or timezone.localdate()
        months = (on.year - self.ramp_start.year) * 12 + (on.month - self.ramp_start.month)
        if on.day < self.ramp_start.day:
            months -= 1
        if months < 1:
            return 0.0
        if months < 2:
            return 0.5
        return 1.0

    def is_out_of_office(self, on: dt.date | None = None) -> bool:
        on = on or timezone.localdate()
        if self.out_of_office_from is None:
            return False
        return self.out_of_office_from <= on and (self.out_of_office_to is None or on <= self.out_of_office_to)

    def effective_capacity(self, on: dt.date | None = None) -> int:
        """Capacity scaled by ramp, and 0 while out of office or inactive."""
        if not self.active or self.is_out_of_office(on):
            return 0
        return int(self.capacity * self.ramp_factor(on))


class Contact(models.Model):
    class BuyingRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", "Decision maker"
        CHAMPION = "champion", "Champion"
        INFLUENCER = "influencer", "Influencer"
        USER = "user", "User"
        BLOCKER = "blocker", "Blocker"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        EVENT = "event", "Event"
        PARTNER = "partner", "Partner"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, unique=True)
    title = models.CharField(max_length=200, blank=True)
    # Stored as E.164 ("+14155550123"); apps.people.contact_fields checks and normalises it.
    phone = PhoneNumberField(blank=True, help_text="With the country code, e.g. +1 415 555 0123.")
    linkedin_url = models.URLField(
        "LinkedIn URL", max_length=300, blank=True, validators=[validate_linkedin_url],
        help_text="e.g. https://www.linkedin.com/in/jane-doe",
    )
    persona = models.CharField(max_length=100, blank=True)
    buying_role = models.CharField(max_length=20, choices=BuyingRole.choices, default=BuyingRole.OTHER)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OUTBOUND)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"], name="contact_name_order")]
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="contact_email_lower_case"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} <{self.email}>" if name else self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        if self.linkedin_url:
            self.linkedin_url = normalize_linkedin_url(self.linkedin_url)
        super().save(*args, **kwargs)


class LeadType(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    TARGET_ACCOUNT = "target_account", "Target account"


class LeadCycle(models.Model):
    """One pass of a contact through the Measurable Lead Model: assigned → working →
    dispositioned. A lead that comes back gets a new cycle; earlier cycles are never edited.
    Cycles are the unit reports count (an MQL is a cycle assigned in the period)."""

    class State(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        WORKING = "working", "Working"
        DISPOSITIONED = "dispositioned", "Dispositioned"

    class Disposition(models.TextChoices):
        QUALIFIED = "qualified", "Qualified"
        NURTURE = "nurture", "Nurture"
        UNQUALIFIED = "unqualified", "Unqualified"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="lead_cycles")
    number = models.PositiveIntegerField(help_text="1 for the contact's first cycle, 2 when recycled, …")
    lead_type = models.CharField(max_length=20, choices=LeadType.choices, default=LeadType.INBOUND)
    source = models.CharField(max_length=20, choices=Contact.Source.choices, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="lead_cycles")
    state = models.CharField(max_length=20, choices=State.choices, default=State.ASSIGNED)
    assigned_at = models.DateTimeField(help_text="The SLA clock starts here.")
    first_touch_at = models.DateTimeField(null=True, blank=True)
    worked_at = models.DateTimeField(null=True, blank=True)
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    # The label as it read when chosen (reason lists are edited over time); `reason` is the row.
    disposition_reason = models.CharField(max_length=200, blank=True)
    reason = models.ForeignKey(
        "people.DispositionReason", null=True, blank=True, on_delete=models.PROTECT, related_name="lead_cycles"
    )
    bypassed_working = models.BooleanField(
        default=False, help_text="Dispositioned without any real touch: counts as picked up, not in response time."
    )
    dispositioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispositioned_by_system = models.BooleanField(
        default=False, db_default=False, help_text="Set when a scheduled job (auto-abandon, end of cadence) dispositioned the lead."
    )
    qualified_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The manager who qualified the lead without a meeting or opportunity.",
    )
    # SLA: the policy that applied when the clock started, and its deadlines (precomputed so
    # the 5-minute check is one indexed query even for business-hours policies).
    sla_policy = models.ForeignKey(
        "people.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="lead_cycles"
    )
    sla_target_at = models.DateTimeField(null=True, blank=True)
    sla_maximum_at = models.DateTimeField(null=True, blank=True)
    response_time = models.DurationField(
        null=True, blank=True, help_text="First real touch − assigned at, on the policy's clock."
    )
    # db_default: bulk loaders (the demo seed's COPY) insert cycles without naming these columns.
    reassignment_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="lead_cycle_number_unique"),
            models.UniqueConstraint(
                fields=["contact"], condition=~Q(state="dispositioned"), name="lead_cycle_one_open_per_contact"
            ),
            models.CheckConstraint(
                condition=Q(state="dispositioned", dispositioned_at__isnull=False) & ~Q(disposition="")
                | (~Q(state="dispositioned") & Q(dispositioned_at__isnull=True, disposition="")),
                name="lead_cycle_disposition_matches_state",
            ),
            models.CheckConstraint(
                condition=~Q(state="working") | Q(worked_at__isnull=False, first_touch_at__isnull=False),
                name="lead_cycle_working_has_touch",
            ),
            models.CheckConstraint(
                condition=~Q(disposition__in=["nurture", "unqualified"]) | Q(reason__isnull=False),
                name="lead_cycle_nurture_unqualified_need_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_at"]),
            models.Index(fields=["rep", "assigned_at"]),
            models.Index(fields=["state", "assigned_at"]),
            models.Index(fields=["state", "sla_maximum_at"], name="lead_cycle_sla_due"),
            # Open cycles per rep: the load measure when an SLA re-assignment picks the next rep.
            models.Index(fields=["rep"], condition=~Q(state="dispositioned"), name="lead_cycle_open_by_rep"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · cycle {self.number} ({self.get_state_display()})"


class DispositionReason(models.Model):
    """The admin-editable lists a lead is nurtured or unqualified with.

    Vague catch-alls ("not a fit", "junk") are refused: a reason must say why the timing is
    wrong (nurture) or why the lead will never buy (unqualified). `code` names the reasons
    the system itself uses (auto-abandoned, no response); those cannot be deactivated."""

    class Disposition(models.TextChoices):
        NURTURE = "nurture", "Nurture"
        UNQUALIFIED = "unqualified", "Unqualified"

    disposition = models.CharField(max_length=20, choices=Disposition.choices)
    label = models.CharField(max_length=200)
    code = models.SlugField(max_length=50, blank=True, help_text="Set on reasons the system uses itself.")
    active = models.BooleanField(default=True, help_text="Inactive reasons are no longer offered; history keeps them.")
    position = models.PositiveSmallIntegerField(default=0)

    VAGUE = ("not a fit", "no fit", "junk", "bad lead", "junk lead", "no budget", "other", "n/a", "not interested")

    class Meta:
        ordering = ["disposition", "position", "label"]
        constraints = [
            models.UniqueConstraint(Lower("label"), "disposition", name="disposition_reason_label_unique_ci"),
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="disposition_reason_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_disposition_display()}: {self.label}"

    def clean(self):
        from django.core.exceptions import ValidationError

        cleaned = " ".join(self.label.lower().replace("/", " ").split()).strip(" .!")
        if cleaned in self.VAGUE:
            raise ValidationError(
                {"label": f"“{self.label}” is too vague: say why the timing is wrong (nurture) or why they will never buy (unqualified)."}
            )
        if self.code and not self.active:
            raise ValidationError({"active": "The system uses this reason; it cannot be deactivated."})


class SlaPolicy(models.Model):
    """Response-time service levels for leads of one type (and optionally one source).

    Calendar hours by default (the Measurable Lead Model's advice: the prospect does not care
    whether we are open); business hours count only the rep's working hours, in the rep's
    time zone, skipping weekends and the public holidays of `holiday_country`."""

    class Clock(models.TextChoices):
        CALENDAR = "calendar", "Calendar hours"
        BUSINESS = "business", "Business hours"

    name = models.CharField(max_length=100, unique=True)
    lead_type = models.CharField(max_length=20, choices=LeadType.choices)
    source = models.CharField(
        max_length=20, choices=Contact.Source.choices, blank=True, help_text="Empty: any source without its own policy."
    )
    target_minutes = models.PositiveIntegerField(default=120, help_text="The rep is reminded once past this.")
    maximum_minutes = models.PositiveIntegerField(default=1440, help_text="Past this the lead is re-assigned.")
    clock = models.CharField(max_length=10, choices=Clock.choices, default=Clock.CALENDAR)
    business_start = models.TimeField(default=dt.time(9, 0))
    business_end = models.TimeField(default=dt.time(17, 0))
    working_days = models.CharField(
        max_length=13, default="0,1,2,3,4", help_text="Weekday numbers, Monday = 0 (e.g. 0,1,2,3,4)."
    )
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text="ISO country code whose public holidays are not business days (e.g. US)."
    )
    holiday_subdivision = models.CharField(max_length=10, blank=True, help_text="State/province code, optional.")
    reassign = models.BooleanField(default=True, help_text="Re-assign to the next available rep past the maximum.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["lead_type", "source"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["lead_type", "source"], condition=Q(active=True), name="sla_policy_one_active_per_type_source"),
            models.CheckConstraint(condition=Q(maximum_minutes__gte=models.F("target_minutes")), name="sla_policy_maximum_after_target"),
            models.CheckConstraint(condition=Q(business_end__gt=models.F("business_start")), name="sla_policy_business_hours_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        try:
            days = self.working_day_numbers()
        except ValueError:
            days = ()
        if not days:
            raise ValidationError({"working_days": "Give weekday numbers 0-6 separated by commas, e.g. 0,1,2,3,4."})
        if self.holiday_country:
            import holidays

            if self.holiday_country.upper() not in holidays.list_supported_countries():
                raise ValidationError({"holiday_country": f"No public-holiday calendar for “{self.holiday_country}”."})

    def working_day_numbers(self) -> tuple[int, ...]:
        days = tuple(sorted({int(part) for part in self.working_days.split(",") if part.strip()}))
        if any(d < 0 or d > 6 for d in days):
            raise ValueError(self.working_days)
        return days


class SlaBreach(models.Model):
    """A lead that passed its target or maximum response time, recorded once per assignment:
    the unique constraint is what keeps a re-run or a concurrent run from acting twice."""

    class Kind(models.TextChoices):
        TARGET = "target", "Past target (rep reminded)"
        MAXIMUM = "maximum", "Past maximum (escalated)"

    cycle = models.ForeignKey(LeadCycle, on_delete=models.CASCADE, related_name="sla_breaches")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="sla_breaches")
    assigned_at = models.DateTimeField(help_text="The assignment whose clock ran out.")
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField(default=timezone.now)
    reassigned_to = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-breached_at", "-id"]
        verbose_name = "SLA breach"
        verbose_name_plural = "SLA breaches"
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "assigned_at"], name="sla_breach_once_per_assignment"),
        ]
        indexes = [models.Index(fields=["rep", "breached_at"])]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.get_kind_display()}"


class LifecycleSettings(models.Model):
    """The one row of editable lead-lifecycle numbers (there is always exactly one, pk=1)."""

    auto_abandon_working_days = models.PositiveSmallIntegerField(
        default=30, help_text="Leads working at least this many days …"
    )
    auto_abandon_idle_days = models.PositiveSmallIntegerField(
        default=7, help_text="… with no real activity in this many days are auto-abandoned to nurture."
    )
    morning_email_hour = models.PositiveSmallIntegerField(
        default=7, help_text="Local hour (manager's time zone) of the “clean your room” email."
    )

    class Meta:
        verbose_name = "lead lifecycle settings"
        verbose_name_plural = "lead lifecycle settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="lifecycle_settings_singleton"),
            models.CheckConstraint(condition=Q(morning_email_hour__lte=23), name="lifecycle_settings_hour_valid"),
            models.CheckConstraint(condition=Q(auto_abandon_idle_days__gte=1), name="lifecycle_settings_idle_positive"),
        ]

    def __str__(self) -> str:
        return "Lead lifecycle settings"

    @classmethod
    def load(cls) -> LifecycleSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class TeamPullRange(models.Model):
    """How many outbound leads each rep of a team should pull from queues per day."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="pull_range")
    minimum = models.PositiveSmallIntegerField(default=10)
    maximum = models.PositiveSmallIntegerField(default=15)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(maximum__gte=models.F("minimum")), name="pull_range_ordered")]

    def __str__(self) -> str:
        return f"{self.team}: {self.minimum}-{self.maximum} a day"


class MorningEmail(models.Model):
    """One row per manager per local day: the marker that makes the hourly job send once."""

    manager = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="morning_emails")
    local_date = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    items = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-local_date"]
        constraints = [models.UniqueConstraint(fields=["manager", "local_date"], name="morning_email_once_a_day")]

    def __str__(self) -> str:
        return f"{self.manager} · {self.local_date}"


class LeadCycleEvent(models.Model):
    """Append-only audit of a cycle's moves: who (or which job) did what, from which state."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        WORKED = "worked", "Moved to working"
        DISPOSITIONED = "dispositioned", "Dispositioned"
        REASSIGNED = "reassigned", "Re-assigned (SLA)"

    cycle = models.ForeignKey(LeadCycle, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    from_rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when a scheduled job did it.",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["cycle", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.get_kind_display()}"


class PersonalDataRequest(models.Model):
    """A person's request to be forgotten, and what was done about it. Keeps no personal
    data itself: the address is stored only as a SHA-256 digest, so a repeated request can
    be recognised without the log undoing the erasure."""

    email_sha256 = models.CharField(max_length=64, db_index=True)
    contact_id = models.BigIntegerField(null=True, blank=True, help_text="The erased contact, if one was found.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    found = models.BooleanField(default=False)
    records_erased = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("forget_contact", "Can erase a contact's personal data")]

    def __str__(self) -> str:
        return f"Erasure request {self.requested_at:%Y-%m-%d} ({'done' if self.found else 'no such contact'})"
