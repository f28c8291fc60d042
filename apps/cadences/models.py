"""Cadences: ordered outreach steps, and each contact's enrolment with its step schedule.

A step ends as positive response, negative response, no response, or not completed — the
four states of the Measurable Lead Model's cadence compliance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.leads.models import LeadCycle, LeadType
from apps.people.models import Contact, Rep
from sdrops.state_machines import StateMachine


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    CALL = "call", "Call"
    SOCIAL = "social", "Social"
    PHYSICAL = "physical", "Physical"


class Cadence(models.Model):
    name = models.CharField(max_length=120, unique=True)
    lead_type = models.CharField(max_length=20, choices=LeadType.choices)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CadenceStep(models.Model):
    cadence = models.ForeignKey(Cadence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    day_offset = models.PositiveSmallIntegerField(help_text="Days after enrolment the step is due.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    instructions = models.TextField(blank=True)

    class Meta:
        ordering = ["cadence", "position"]
        constraints = [models.UniqueConstraint(fields=["cadence", "position"], name="cadence_step_position_unique")]

    def __str__(self) -> str:
        return f"{self.cadence} · step {self.position} (day {self.day_offset}, {self.get_channel_display()})"


class Enrolment(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        POSITIVE = "positive", "Ended: positive response"
        NEGATIVE = "negative", "Ended: negative response (disposition the lead)"
        COMPLETED = "completed", "Completed: no response"
        INCOMPLETE = "incomplete", "Ended: last step not completed"
        DISPOSITIONED = "dispositioned", "Ended: lead dispositioned"
        STOPPED = "stopped", "Ended: stopped (e.g. for a reschedule cadence)"

    # The one map of allowed moves: an active enrolment ends once, in one of the ended states.
    # apps.cadences.services.enrolment_transition applies it and writes the EnrolmentEvent.
    TRANSITIONS = StateMachine("cadence enrolment", {
        State.ACTIVE: {State.POSITIVE, State.NEGATIVE, State.COMPLETED, State.INCOMPLETE, State.DISPOSITIONED,
                       State.STOPPED},
        State.POSITIVE: set(), State.NEGATIVE: set(), State.COMPLETED: set(), State.INCOMPLETE: set(),
        State.DISPOSITIONED: set(), State.STOPPED: set(),
    }, field="state")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrolments")
    cadence = models.ForeignKey(Cadence, on_delete=models.PROTECT, related_name="enrolments")
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="enrolments")
    lead_cycle = models.ForeignKey(LeadCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrolments")
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    enrolled_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact"], condition=Q(state="active"), name="enrolment_one_active_per_contact"),
            models.CheckConstraint(
                condition=Q(state="active", ended_at__isnull=True) | (~Q(state="active") & Q(ended_at__isnull=False)),
                name="enrolment_ended_at_matches_state",
            ),
        ]
        indexes = [models.Index(fields=["rep", "state"])]

    def __str__(self) -> str:
        return f"{self.contact} in {self.cadence}"


class EnrolmentEvent(models.Model):
    """Append-only audit of an enrolment's state changes: from which state to which, who
    (empty: the system or a scheduled job), when."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=20, choices=Enrolment.State.choices)
    to_state = models.CharField(max_length=20, choices=Enrolment.State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.enrolment_id}: {self.from_state} → {self.to_state}"


class EnrolmentStep(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        POSITIVE = "positive", "Positive response"
        NEGATIVE = "negative", "Negative response"
        NO_RESPONSE = "no_response", "No response"
        NOT_COMPLETED = "not_completed", "Not completed"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="steps")
    step = models.ForeignKey(CadenceStep, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    ended_at = models.DateTimeField(null=True, blank=True)
    activity = models.ForeignKey("accounts.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_by_system = models.BooleanField(default=False, help_text="Marked not completed by the overdue job.")

    class Meta:
        ordering = ["enrolment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "position"], name="enrolment_step_position_unique"),
            models.CheckConstraint(
                condition=Q(outcome="pending", ended_at__isnull=True) | (~Q(outcome="pending") & Q(ended_at__isnull=False)),
                name="enrolment_step_ended_at_matches_outcome",
            ),
        ]
        indexes = [models.Index(fields=["outcome", "due_at"])]

    def __str__(self) -> str:
        return f"{self.enrolment} · step {self.position}"


class FollowUpTask(models.Model):
    """A rep's promise to get back to a lead or an account on a date (issue 22 item 6): "call
    me in March" on a nurtured lead, or any follow-up a rep wants to keep. Opened, completed
    (which logs the activity) or cancelled only through apps.cadences.follow_ups, which writes
    a FollowUpTaskEvent for each move, and for each hand-over when the account changes owner."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS = StateMachine("follow-up task", {
        Status.OPEN: {Status.DONE, Status.CANCELLED},
        Status.DONE: set(),
        Status.CANCELLED: set(),
    })

    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="follow_ups")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups",
        help_text="The contact's account when there is a contact; the task moves with its owner.",
    )
    lead_cycle = models.ForeignKey(LeadCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    title = models.CharField(max_length=200)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    activity = models.ForeignKey(
        "accounts.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The activity logged when the task was completed.",
    )
    # The reminder job's marker: set in the transaction that queues the mail, so a re-run
    # (or a second cluster) reminds once.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(contact__isnull=False) | Q(account__isnull=False),
                                   name="follow_up_on_contact_or_account"),
            models.CheckConstraint(condition=~Q(status="done") | Q(completed_at__isnull=False),
                                   name="follow_up_done_has_time"),
        ]
        indexes = [
            models.Index(fields=["rep", "due_at"], condition=Q(status="open"), name="follow_up_open_by_rep"),
            models.Index(fields=["due_at"], condition=Q(status="open", reminded_at__isnull=True),
                         name="follow_up_to_remind"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_at:%Y-%m-%d})"


class FollowUpTaskEvent(models.Model):
    """Append-only history of a follow-up task: created, moved to another rep, completed,
    cancelled, reminded; who did it (empty: a job or the ownership change)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        MOVED = "moved", "Moved to another rep"
        DONE = "done", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REMINDED = "reminded", "Reminder sent"

    task = models.ForeignKey(FollowUpTask, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.get_kind_display()}"
