"""Meetings SDRs book for AEs, and the opportunities they source.

The hand-off from SDR to AE is measured here: every meeting must be dispositioned within
the due time after its scheduled end (late ones are flagged), no-shows hand rescheduling back
to the SDR, and each opportunity keeps the SDR who sourced it for attribution however its
owners change later. Workflows live in services.py; these are fields and invariants.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class MeetingSettings(models.Model):
    """The editable limits of the meeting flow: one row (pk 1); changes are recorded in
    MeetingSettingsChange by apps.meetings.services.meeting_settings_update."""

    no_show_limit = models.PositiveSmallIntegerField(
        default=2, help_text="Further no-shows allowed after the first before the lead is abandoned to nurture."
    )
    reschedule_touches = models.PositiveSmallIntegerField(
        default=5, help_text="Touches the SDR makes to reschedule after a no-show."
    )
    reschedule_days = models.PositiveSmallIntegerField(default=7, help_text="Days the reschedule attempt lasts.")
    disposition_due_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Hours after a meeting's scheduled end by which it must be dispositioned."
    )
    default_duration_minutes = models.PositiveSmallIntegerField(default=30)
    opportunity_at_booking = models.BooleanField(
        default=False,
        help_text="Open an opportunity at stage 1 (meeting scheduled) when an initial meeting is booked, "
        "instead of when it is completed as qualified.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "meeting settings"
        verbose_name_plural = "meeting settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="meeting_settings_single_row"),
            models.CheckConstraint(condition=Q(reschedule_days__gte=1), name="meeting_settings_reschedule_days_min"),
            models.CheckConstraint(
                condition=Q(disposition_due_hours__gte=1), name="meeting_settings_due_hours_min"
            ),
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gte=5), name="meeting_settings_duration_min"
            ),
        ]

    def __str__(self) -> str:
        return "Meeting settings"


class MeetingSettingsChange(models.Model):
    """Append-only: who changed which limit, from what, to what."""

    settings_row = models.ForeignKey(MeetingSettings, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=50)
    old_value = models.CharField(max_length=200)
    new_value = models.CharField(max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class OpportunityStage(models.Model):
    """The opportunity pipeline. Codes are fixed (the system moves opportunities by code);
    names, and which stage counts as pipeline (SAO), are edited by ops."""

    class Outcome(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Closed won"
        LOST = "lost", "Closed lost"

    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_COMPLETED = "meeting_completed"
    PIPELINE = "pipeline"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(unique=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    is_pipeline = models.BooleanField(
        default=False,
        verbose_name="pipeline stage",
        help_text="Opportunities count as pipeline (SAO) from this stage on. Exactly one stage is the pipeline stage.",
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["is_pipeline"], condition=Q(is_pipeline=True), name="one_pipeline_stage"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.outcome == self.Outcome.OPEN


class ClosedLostReason(models.TextChoices):
    NO_DECISION = "no_decision", "No decision / went dark"
    COMPETITOR = "competitor", "Lost to competitor"
    PRICE = "price", "Price"
    TIMING = "timing", "Timing / no budget"
    UNQUALIFIED = "unqualified", "Not qualified"
    MERGED = "merged", "Merged into another opportunity"
    OTHER = "other", "Other"


class Opportunity(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="opportunities")
    name = models.CharField(max_length=255)
    stage = models.ForeignKey(OpportunityStage, on_delete=models.PROTECT, related_name="opportunities")
    # Kept in step with stage.outcome by the stage service; stored so routing and retrieval
    # can filter on it without a join.
    is_open = models.BooleanField(default=True, editable=False)
    amount = models.DecimalField(
        "amount (IACV)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    close_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        "people.Rep", on_delete=models.PROTECT, related_name="opportunities", verbose_name="AE owner"
    )
    # Attribution: never changed by hand-overs or account owner changes.
    sourcing_sdr = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="sourced_opportunities",
        verbose_name="sourcing SDR", editable=False,
    )
    source_meeting = models.ForeignKey(
        "meetings.Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, help_text="The meeting this opportunity was created from.",
    )
    closed_lost_reason = models.CharField(max_length=20, choices=ClosedLostReason.choices, blank=True)
    closed_lost_details = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_children",
        help_text="The parent opportunity, when closed lost as merged into another opportunity.",
    )
    pipeline_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it first reached the pipeline stage (SAO)."
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_non_negative"),
            models.CheckConstraint(
                condition=~Q(closed_lost_reason="merged") | Q(merged_into__isnull=False),
                name="opportunity_merged_needs_parent",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(closed_lost_reason="merged"),
                name="opportunity_parent_only_when_merged",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")), name="opportunity_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(closed_lost_reason="") | Q(is_open=False), name="opportunity_lost_reason_only_when_closed"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "is_open"]),
            models.Index(fields=["owner", "is_open"]),
            models.Index(fields=["sourcing_sdr", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityEvent(models.Model):
    """Append-only stage and owner history: reports measure stage conversion and velocity
    from the `stage` rows (the `created` row is the entry into the first stage)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STAGE = "stage", "Stage change"
        HANDOVER = "handover", "Handed over"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_stage = models.ForeignKey(OpportunityStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(OpportunityStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_owner = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_owner = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the system made the change.",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["opportunity", "occurred_at"]), models.Index(fields=["to_stage", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class Meeting(models.Model):
    class Kind(models.TextChoices):
        IQM = "iqm", "Initial qualifying meeting"
        DISCOVERY = "discovery", "Discovery"
        DEMO = "demo", "Demo"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED_QUALIFIED = "completed_qualified", "Completed – Qualified"
        COMPLETED_UNQUALIFIED = "completed_unqualified", "Completed – Unqualified"
        NO_SHOW = "no_show", "Not Completed – No Show"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"

    DISPOSITIONS = (Status.COMPLETED_QUALIFIED, Status.COMPLETED_UNQUALIFIED, Status.NO_SHOW)

    class CancelledBy(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        SDR = "sdr", "SDR"
        AE = "ae", "AE"

    contact = models.ForeignKey("people.Contact", on_delete=models.PROTECT, related_name="meetings")
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="meetings")
    lead_cycle = models.ForeignKey(
        "leads.LeadCycle", null=True, blank=True, on_delete=models.PROTECT, related_name="meetings",
        help_text="The lead cycle the meeting was booked in; no-shows are counted per cycle.",
    )
    sdr = models.ForeignKey(
        "people.Rep", on_delete=models.PROTECT, related_name="booked_meetings", verbose_name="SDR",
        help_text="The SDR who booked the meeting (credited with it).",
    )
    ae = models.ForeignKey("people.Rep", on_delete=models.PROTECT, related_name="meetings", verbose_name="AE")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.IQM)
    scheduled_at = models.DateTimeField("starts at")
    scheduled_end_at = models.DateTimeField("ends at")
    notes = models.TextField("pre-meeting notes", blank=True)
    sdr_attends = models.BooleanField("SDR attends", default=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.SCHEDULED)
    disposition_due_at = models.DateTimeField(editable=False)
    dispositioned_at = models.DateTimeField(null=True, blank=True, editable=False)
    dispositioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    disposition_notes = models.TextField(blank=True)
    disposition_late = models.BooleanField("late", default=False, editable=False)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancelled_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    previous_meeting = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_meetings", editable=False,
        help_text="The meeting this one replaces (rescheduled, or rebooked after a no-show).",
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    booked_at = models.DateTimeField(default=timezone.now, editable=False)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(scheduled_end_at__gt=F("scheduled_at")), name="meeting_ends_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "rescheduled", "cancelled"], dispositioned_at__isnull=True)
                | Q(status__in=["completed_qualified", "completed_unqualified", "no_show"], dispositioned_at__isnull=False),
                name="meeting_dispositioned_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled") & ~Q(cancelled_by="") | ~Q(status="cancelled") & Q(cancelled_by=""),
                name="meeting_cancelled_by_only_when_cancelled",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_end_at"]),
            models.Index(fields=["status", "disposition_due_at"]),
            models.Index(fields=["ae", "status"]),
            models.Index(fields=["sdr", "status"]),
            models.Index(fields=["contact", "status"]),
            models.Index(fields=["account", "status", "scheduled_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.contact} ({self.scheduled_at:%Y-%m-%d %H:%M})"

    @property
    def is_dispositioned(self) -> bool:
        return self.status in self.DISPOSITIONS

    def is_overdue(self, now=None) -> bool:
        return self.status == self.Status.SCHEDULED and (now or timezone.now()) > self.disposition_due_at


class MeetingNotification(models.Model):
    """One row per notification kind per meeting: the marker that makes each one go out
    once however often, and however concurrently, the jobs run."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder to the AE at meeting end"
        ESCALATION = "escalation", "Escalation to the sales manager"
        NO_SHOW = "no_show", "No-show: rescheduling handed to the SDR"
        NO_SHOW_LIMIT = "no_show_limit", "No-show limit: lead abandoned to nurture"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(blank=True, help_text="Empty when there was nobody to send to.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "kind"], name="meeting_notification_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.meeting_id}"


class RescheduleAttempt(models.Model):
    """After a no-show the SDR owns rescheduling: this is their task, open until a new
    meeting is booked (or the lead is abandoned / the window ends)."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        BOOKED = "booked", "Rebooked"
        ABANDONED = "abandoned", "Abandoned"
        EXPIRED = "expired", "Expired (window passed or lead dispositioned)"

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="reschedule_attempt")
    contact = models.ForeignKey("people.Contact", on_delete=models.CASCADE, related_name="reschedule_attempts")
    sdr = models.ForeignKey("people.Rep", on_delete=models.PROTECT, related_name="reschedule_attempts", verbose_name="SDR")
    touches_allowed = models.PositiveSmallIntegerField()
    due_by = models.DateTimeField(help_text="The reschedule window ends here.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    rebooked_meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_by", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact"], condition=Q(state="open"), name="one_open_reschedule_per_contact"),
        ]

    def __str__(self) -> str:
        return f"Reschedule {self.contact} by {self.due_by:%Y-%m-%d}"
