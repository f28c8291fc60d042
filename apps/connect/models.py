"""Records of the connections to the sales stack (see apps/connect/apps.py).

Secrets: the OIDC client secret and the SMTP password come from the environment; calendar-
feed secrets are stored as SHA-256 hashes and shown once. A chat channel's webhook URL must be
usable, so it is stored encrypted on its WebhookEndpoint (`url_encrypted`, sdrops/secrets.py)
and no page shows it again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.connect.merge import template_problems
from apps.people.models import Rep


class SsoRoleMapping(models.Model):
    """One value of the identity provider's groups claim and the role (and, optionally,
    team) it gives. A user whose groups map to no role is refused at sign-on."""

    claim_value = models.CharField(
        max_length=200, help_text="A value of the groups claim, e.g. “sales-sdr” or an Entra group id."
    )
    role = models.CharField(max_length=10, choices=Rep.Role.choices)
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Team for users in this group, unless the team claim names a team.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["claim_value"]
        verbose_name = "SSO role mapping"
        constraints = [models.UniqueConstraint(Lower("claim_value"), name="sso_role_mapping_value_unique_ci")]

    def __str__(self) -> str:
        return f"{self.claim_value} → {self.get_role_display()}"


class SsoLogin(models.Model):
    """Every single sign-on attempt that reached the portal with a token: who, and why a
    refused one was refused, so ops can answer “why can't I log in?”."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        CREATED = "created", "Signed in (new user)"
        REFUSED = "refused", "Refused"

    at = models.DateTimeField(default=timezone.now)
    email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True, help_text="The provider's `sub` claim.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    groups = models.JSONField(default=list, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "SSO sign-on"

    def __str__(self) -> str:
        return f"{self.email or self.subject} · {self.get_outcome_display()}"


class OutboundEmail(models.Model):
    """The mail outbox (sdrops/mail.py, the one way mail is sent): a message written in the
    transaction of the change it reports (an invite, a cadence email step, a reminder, the
    morning email, an alarm), sent after commit by a task, retried
    with back-off when the mail server refuses or is down, a dead letter after
    MAIL_MAX_ATTEMPTS. The Message-ID is fixed when the row is written, so a retry after a
    send whose answer was lost is recognisable as the same message."""

    class Kind(models.TextChoices):
        INVITE = "invite", "Calendar invite"
        CADENCE_STEP = "cadence_step", "Cadence email step"
        NOTIFICATION = "notification", "Notification (reminders, escalations, morning email, alarms)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead letter"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message_id = models.CharField(max_length=255, unique=True, editable=False)
    from_email = models.CharField(max_length=320)
    reply_to = models.JSONField(default=list, blank=True)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    html = models.TextField(blank=True, default="", help_text="The HTML alternative, when the mail has one.")
    headers = models.JSONField(default=dict, blank=True)
    ics = models.TextField(blank=True, help_text="An iCalendar part (text/calendar) sent with the message.")
    ics_method = models.CharField(max_length=20, blank=True)
    related = models.CharField(max_length=100, blank=True, help_text="What the message is about, e.g. meeting:12.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound email"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="outbound_email_due"),
            models.Index(fields=["related"], name="outbound_email_related"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False), name="outbound_email_sent_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {', '.join(self.to)}: {self.subject}"


class CalendarSettings(models.Model):
    """What ops decide about calendar invites: one row (pk 1)."""

    invite_prospect = models.BooleanField(
        default=False,
        help_text="Send the invite to the prospect too (otherwise only the AE and the SDR get it, and the AE "
        "forwards it from their calendar).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "calendar settings"
        verbose_name_plural = "calendar settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="calendar_settings_single_row")]

    def __str__(self) -> str:
        return "Calendar settings"

    @classmethod
    def load(cls) -> CalendarSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class CalendarFeed(models.Model):
    """A user's personal calendar feed: a secret URL serving their upcoming meetings to any
    calendar client. Only the SHA-256 of the secret is stored; the URL is shown once.
    Revoking it (or making a new one) makes the old URL answer 404."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="one_active_calendar_feed_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({self.token_hint}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class EmailStepTemplate(models.Model):
    """The email a cadence email step sends: subject and body with merge fields
    ({{ first_name }}, {{ account }}, {{ signature }} …, apps/connect/email_steps.py). A
    field with no value for a contact refuses the send rather than mail “Hi ,”."""

    step = models.OneToOneField(
        "cadences.CadenceStep", on_delete=models.CASCADE, related_name="email_template",
        limit_choices_to={"channel": "email"},
    )
    subject = models.CharField(max_length=255)
    body = models.TextField()
    automatic = models.BooleanField(
        default=False,
        help_text="Sent by the portal when due, without the rep's review. Automatic sends are automated touches: "
        "they never move a lead to working nor count as its first response.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["step__cadence__name", "step__position"]

    def __str__(self) -> str:
        return f"Email of {self.step}"

    def clean(self):
        errors = {}
        if self.step_id and self.step.channel != "email":
            errors["step"] = "Only an email step can carry an email template."
        for field in ("subject", "body"):
            problems = template_problems(getattr(self, field) or "")
            if problems:
                errors[field] = problems
        if errors:
            raise ValidationError(errors)


class RepSignature(models.Model):
    """The signature the {{ signature }} merge field puts under a rep's cadence emails."""

    rep = models.OneToOneField("people.Rep", on_delete=models.CASCADE, related_name="email_signature")
    text = models.TextField()

    def __str__(self) -> str:
        return f"Signature of {self.rep}"


class EmailOptOut(models.Model):
    """An address the portal never emails (cadence steps): the contact opted out, their
    address bounced, or ops suppressed it. Kept by address, so it survives a contact being
    deleted and re-imported."""

    class Reason(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        BOUNCED = "bounced", "Bounced"
        MANUAL = "manual", "Suppressed by ops"

    email = models.EmailField(max_length=254)
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.OPTED_OUT)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["email"]
        verbose_name = "email opt-out"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="email_opt_out_unique_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class CadenceEmail(models.Model):
    """One cadence email step's send (or the refusal to send it): one per enrolment step,
    so a step is never mailed twice however often the job or the button runs."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        REFUSED = "refused", "Refused"
        BOUNCED = "bounced", "Bounced"
        REPLIED = "replied", "Replied"

    enrolment_step = models.OneToOneField("cadences.EnrolmentStep", on_delete=models.CASCADE, related_name="email")
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    automatic = models.BooleanField(default=False)
    outbound = models.ForeignKey(OutboundEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activity = models.ForeignKey("accounts.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.enrolment_step} · {self.get_status_display()}"


class ChatChannel(models.Model):
    """A Slack or Microsoft Teams incoming webhook that gets alerts for a team or a person.

    Delivery is the webhook outbox's (after commit, retried, dead-lettered, SSRF-guarded):
    each channel owns a WebhookEndpoint that receives only chat alerts. The webhook URL is a
    credential (whoever has it can post to the channel): the admin never shows it again."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack (incoming webhook, Block Kit)"
        TEAMS = "teams", "Microsoft Teams (incoming webhook / workflow, Adaptive Card)"

    class Alert(models.TextChoices):
        SLA_ESCALATION = "sla_escalation", "SLA escalations (lead past maximum response time)"
        MEETING_ESCALATION = "meeting_escalation", "Meeting-disposition escalations"
        MORNING_SUMMARY = "morning_summary", "Morning summary (clean your room, pull alarms)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="chat_channels",
        help_text="Alerts about this team's reps (and, for the summary, its manager's).",
    )
    rep = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.CASCADE, related_name="chat_channels",
        help_text="Alerts addressed to this person (the manager escalated to, the summary's manager).",
    )
    alerts = ArrayField(models.CharField(max_length=30, choices=Alert.choices), default=list)
    active = models.BooleanField(default=True)
    endpoint = models.OneToOneField(
        "integrations.WebhookEndpoint", on_delete=models.PROTECT, related_name="chat_channel", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(team__isnull=False) & models.Q(rep__isnull=True))
                | (models.Q(team__isnull=True) & models.Q(rep__isnull=False)),
                name="chat_channel_team_or_person",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CrmSystem(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"
    SDROPS = "sdrops", "sdrops JSON (the API's own shape)"


class CrmStageMapping(models.Model):
    """A CRM's stage name (Salesforce StageName) or id (HubSpot dealstage) → our stage."""

    system = models.CharField(max_length=20, choices=CrmSystem.choices)
    crm_value = models.CharField(max_length=200, help_text="e.g. “Qualification” (Salesforce) or “appointmentscheduled”.")
    stage = models.ForeignKey("meetings.OpportunityStage", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["system", "crm_value"]
        verbose_name = "CRM stage mapping"
        constraints = [
            models.UniqueConstraint("system", Lower("crm_value"), name="crm_stage_mapping_unique_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.crm_value} → {self.stage}"


class CrmUserMapping(models.Model):
    """A CRM user (Salesforce OwnerId, HubSpot hubspot_owner_id, or an email) → a rep. An
    owner with no mapping is matched by email when it looks like one."""

    system = models.CharField(max_length=20, choices=CrmSystem.choices)
    crm_user = models.CharField(max_length=200, help_text="e.g. 0055e000001AbCd (Salesforce) or 51234567 (HubSpot).")
    rep = models.ForeignKey("people.Rep", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["system", "crm_user"]
        verbose_name = "CRM user mapping"
        constraints = [
            models.UniqueConstraint("system", Lower("crm_user"), name="crm_user_mapping_unique_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.crm_user} → {self.rep}"


class CrmLink(models.Model):
    """A CRM record's external id, with the portal record it is (unique per kind), and the
    id it was merged into when the CRM merged it away."""

    class Kind(models.TextChoices):
        OPPORTUNITY = "opportunity", "Opportunity"
        CONTACT = "contact", "Contact"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    external_id = models.CharField(max_length=100)
    opportunity = models.OneToOneField(
        "meetings.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="crm_link"
    )
    contact = models.OneToOneField(
        "people.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="crm_link"
    )
    merged_into = models.CharField(max_length=100, blank=True, help_text="The surviving record's external id.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "external_id"]
        verbose_name = "CRM link"
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id"], name="crm_link_external_id_unique"),
            models.CheckConstraint(
                condition=(models.Q(kind="opportunity") & models.Q(contact__isnull=True))
                | (models.Q(kind="contact") & models.Q(opportunity__isnull=True)),
                name="crm_link_kind_matches_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"
