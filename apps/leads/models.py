"""The lead lifecycle of the Measurable Lead Model: cycles and their events, SLA policies and
breaches, disposition reasons, the lifecycle settings, team pull ranges and the morning-email
marker. The people (teams, reps, contacts) stay in apps.people.

These models moved here from apps.people without copying a table: each keeps its
`people_*` db_table (migrations people 0008 / leads 0001 moved only Django's state and the
content types, so permissions and admin history follow)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from apps.people.models import Contact, Rep, Team
from sdrops.singleton import SingletonSettings
from sdrops.state_machines import StateMachine


class LeadType(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    TARGET_ACCOUNT = "target_account", "Target account"


class LeadCycleQuerySet(models.QuerySet):
    def open(self) -> LeadCycleQuerySet:
        """Cycles still being worked (assigned or working): at most one per contact."""
        return self.exclude(state=LeadCycle.State.DISPOSITIONED)

    def counted(self) -> LeadCycleQuerySet:
        """Cycles the performance numbers count: every cycle not marked an exception."""
        return self.filter(exception_at__isnull=True)

    def exceptions(self) -> LeadCycleQuerySet:
        return self.filter(exception_at__isnull=False)


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

    # The one map of allowed moves; apps.leads.services.cycles.lead_cycle_transition applies it.
    TRANSITIONS = StateMachine("lead cycle", {
        State.ASSIGNED: {State.WORKING, State.DISPOSITIONED},
        State.WORKING: {State.DISPOSITIONED},
        State.DISPOSITIONED: set(),
    }, field="state")
    # Counted in the numbers or an exception: orthogonal to the state (a cycle in any state can
    # be marked, and cleared again); apps.leads.services.exceptions applies it.
    COUNTED, EXCEPTION = "counted", "exception"
    EXCEPTION_TRANSITIONS = StateMachine("lead cycle exception", {
        COUNTED: {EXCEPTION},
        EXCEPTION: {COUNTED},
    }, field="exception")

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
        "leads.DispositionReason", null=True, blank=True, on_delete=models.PROTECT, related_name="lead_cycles"
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
        "leads.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="lead_cycles"
    )
    sla_target_at = models.DateTimeField(null=True, blank=True)
    sla_maximum_at = models.DateTimeField(null=True, blank=True)
    response_time = models.DurationField(
        null=True, blank=True, help_text="First real touch − assigned at, on the policy's clock."
    )
    # An exception (issue 22): a cycle a manager or ops took out of the process (a new market
    # handled by hand, a test lead …). Every performance number leaves it out — SQL reads
    # `exception_at IS NULL` (apps.reporting.selectors.SQL_COUNTED) — and it is listed on the
    # exceptions report until dealt with. Marked and cleared only through
    # apps.leads.services.exceptions, which writes the who/why as a LeadCycleEvent too.
    exception_reason = models.ForeignKey(
        "leads.ExceptionReason", null=True, blank=True, on_delete=models.PROTECT, related_name="lead_cycles"
    )
    exception_note = models.CharField(max_length=255, blank=True, default="", db_default="")
    exception_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exception_at = models.DateTimeField(null=True, blank=True)
    # db_default: bulk loaders (the demo seed's COPY) insert cycles without naming these columns.
    reassignment_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Report flags, kept by database triggers (apps/reporting/migrations/0004_rollups.py) from the
    # meetings, opportunities, SLA breaches and campaign interactions that decide them, so the
    # report pages read them here instead of aggregating every qualified meeting per request.
    # Never written by application code; `manage.py rebuild_report_rollups` recomputes them.
    is_sql = models.BooleanField(default=False, db_default=False, editable=False,
                                 help_text="A Completed – Qualified meeting was booked in this cycle.")
    is_opp = models.BooleanField(default=False, db_default=False, editable=False,
                                 help_text="Such a meeting's opportunity reached the pipeline stage.")
    sla_breached = models.BooleanField(default=False, db_default=False, editable=False,
                                       help_text="The SLA job recorded a past-maximum breach for this cycle.")
    campaign_record_id = models.BigIntegerField(
        null=True, blank=True, editable=False,
        help_text="The Campaign record the cycle's arrival was linked to (campaigns.CampaignInteraction).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = LeadCycleQuerySet.as_manager()

    class Meta:
        db_table = "people_leadcycle"
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
            models.CheckConstraint(
                condition=Q(exception_at__isnull=True, exception_reason__isnull=True)
                | Q(exception_at__isnull=False, exception_reason__isnull=False),
                name="lead_cycle_exception_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_at"]),
            models.Index(fields=["rep", "assigned_at"]),
            models.Index(fields=["state", "assigned_at"]),
            models.Index(fields=["state", "sla_maximum_at"], name="lead_cycle_sla_due"),
            # Open cycles per rep: the load measure when an SLA re-assignment picks the next rep.
            models.Index(fields=["rep"], condition=~Q(state="dispositioned"), name="lead_cycle_open_by_rep"),
            # The response-time percentiles read the period's responded cycles from this index alone.
            models.Index(fields=["assigned_at"], include=["rep", "source", "lead_type", "first_touch_at", "response_time"],
                         condition=Q(first_touch_at__isnull=False, bypassed_working=False, exception_at__isnull=True), name="lead_cycle_responded"),
            # Untouched open cycles: the SLA breach a report adds at request time (past the maximum now).
            models.Index(fields=["assigned_at"], condition=Q(first_touch_at__isnull=True, dispositioned_at__isnull=True, exception_at__isnull=True),
                         name="lead_cycle_untouched_open"),
            # The exceptions report: few rows, read by when they were marked.
            models.Index(fields=["exception_at"], condition=Q(exception_at__isnull=False), name="lead_cycle_exceptions"),
            # Its counts per reason: the period's exceptions by assignment, without visiting every cycle of the period.
            models.Index(fields=["assigned_at"], include=["id", "exception_reason", "state", "exception_at", "rep", "lead_type"],
                         condition=Q(exception_at__isnull=False), name="lead_cycle_exceptions_assigned"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · cycle {self.number} ({self.get_state_display()})"

    @property
    def exception_state(self) -> str:
        return self.EXCEPTION if self.exception_at else self.COUNTED


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
        db_table = "people_dispositionreason"
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


class ExceptionReason(models.Model):
    """The editable list of reasons a lead cycle is taken out of the numbers (a new market
    handled by hand while the process catches up, a test lead, a duplicate …). Ops edit it;
    a reason in use is retired (active off), never deleted."""

    label = models.CharField(max_length=200)
    description = models.CharField(max_length=255, blank=True, help_text="When to use it, shown to managers.")
    active = models.BooleanField(default=True, help_text="Inactive reasons are no longer offered; history keeps them.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "label"]
        constraints = [models.UniqueConstraint(Lower("label"), name="exception_reason_label_unique_ci")]

    def __str__(self) -> str:
        return self.label


class SlaOnLeave(models.TextChoices):
    PAUSE = "pause", "Pause the clock while the rep is out of office"
    REASSIGN = "reassign", "Re-assign the lead to an available rep at once"


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
    OnLeave = SlaOnLeave
    on_leave = models.CharField(
        max_length=10, choices=OnLeave.choices, default=OnLeave.PAUSE,
        help_text="Leads a rep already holds when they are out of office (issue 18: leave that costs nobody).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "people_slapolicy"
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
        db_table = "people_slabreach"
        ordering = ["-breached_at", "-id"]
        verbose_name = "SLA breach"
        verbose_name_plural = "SLA breaches"
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "assigned_at"], name="sla_breach_once_per_assignment"),
        ]
        indexes = [models.Index(fields=["rep", "breached_at"])]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.get_kind_display()}"


class LifecycleSettings(SingletonSettings):
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
        db_table = "people_lifecyclesettings"
        verbose_name = "lead lifecycle settings"
        verbose_name_plural = "lead lifecycle settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="lifecycle_settings_singleton"),
            models.CheckConstraint(condition=Q(morning_email_hour__lte=23), name="lifecycle_settings_hour_valid"),
            models.CheckConstraint(condition=Q(auto_abandon_idle_days__gte=1), name="lifecycle_settings_idle_positive"),
        ]

    def __str__(self) -> str:
        return "Lead lifecycle settings"


class TeamPullRange(models.Model):
    """How many outbound leads each rep of a team should pull from queues per day."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="pull_range")
    minimum = models.PositiveSmallIntegerField(default=10)
    maximum = models.PositiveSmallIntegerField(default=15)

    class Meta:
        db_table = "people_teampullrange"
        constraints = [models.CheckConstraint(condition=Q(maximum__gte=models.F("minimum")), name="pull_range_ordered")]

    def __str__(self) -> str:
        return f"{self.team}: {self.minimum}-{self.maximum} a day"


class TeamActivityGoals(models.Model):
    """A team's activity goals per rep and working day, split into inbound work (touches on
    inbound leads) and outbound work (outbound and target-account leads, and account work with
    no lead) — the SPA framework's inbound/outbound balance (issue 22 item 2). Edited by ops
    per team; a team without a row has no goals (the pages say so)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="activity_goals")
    inbound_per_day = models.PositiveSmallIntegerField(default=15, help_text="Touches on inbound leads a rep should make a working day.")
    outbound_per_day = models.PositiveSmallIntegerField(default=35, help_text="Outbound touches (outbound and target-account leads, account work) a working day.")

    class Meta:
        verbose_name = "team activity goals"
        verbose_name_plural = "team activity goals"

    def __str__(self) -> str:
        return f"{self.team}: {self.inbound_per_day} inbound + {self.outbound_per_day} outbound a day"


class MorningEmail(models.Model):
    """One row per manager per local day: the marker that makes the hourly job send once."""

    manager = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="morning_emails")
    local_date = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    items = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "people_morningemail"
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
        EXCEPTION_MARKED = "exception_marked", "Marked an exception"
        EXCEPTION_CLEARED = "exception_cleared", "Exception cleared (counted again)"

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
        db_table = "people_leadcycleevent"
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["cycle", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.cycle_id}: {self.get_kind_display()}"
