"""Other systems talking to the portal: integrations (API clients), the deliveries they
send us, the endpoints we notify and the outbox of notifications.

Its own app because these records are cross-cutting: an integration's token and secret,
an inbound CRM delivery or an outbound event belong to no single domain app.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sdrops.secrets import secret_decrypt, secret_encrypt, url_shown
from sdrops.state_machines import StateMachine

TOKEN_PREFIX = "sdr_"
RATE_RE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_rate(value: str) -> None:
    if value and not RATE_RE.match(value):
        raise ValidationError(f"“{value}” is not a rate; expected a number per period, e.g. 120/min, 10/s, 5000/day.")


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE_LEADS_ACTIVITIES = "write_leads_activities", "Write leads and activities"
    WRITE_ACCOUNTS = "write_accounts", "Write accounts"


class Integration(models.Model):
    """A named API client created by ops. It acts as its user: an SDR's sales engagement
    tool linked to the SDR's login sees only that SDR's book; scopes narrow it further."""

    name = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="integrations",
        help_text="Requests run with this user's permissions and record it as the actor.",
    )
    # Only the SHA-256 of the token is stored; the token itself is shown once.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=12, editable=False, help_text="The token's first characters.")
    scopes = ArrayField(models.CharField(max_length=30, choices=Scope.choices), default=list, blank=True)
    # Kept in clear text: HMAC needs the key itself on both sides.
    secret = models.CharField(
        max_length=100, default=new_secret, help_text="HMAC-SHA256 key of the CRM's signed webhooks (Standard Webhooks; shown as whsec_… in the "
        "admin). Changing it breaks the CRM's deliveries until it has the new one."
    )
    throttle_rate = models.CharField(
        max_length=20, blank=True, validators=[validate_rate],
        help_text="Requests allowed per period, e.g. 120/min. Empty: the default (API_DEFAULT_INTEGRATION_RATE).",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def set_token(self) -> str:
        """Give the integration a new token and return it (the only time it is visible)."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(30)
        self.token_hash = token_hash(raw)
        self.token_hint = raw[:10]
        return raw


class InboundDelivery(models.Model):
    """One webhook delivery we accepted, by its idempotency key: a repeat gets the stored
    answer and changes nothing."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="deliveries")
    idempotency_key = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=40, blank=True)
    record_key = models.CharField(max_length=300, blank=True)
    sender_timestamp = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "inbound deliveries"
        # For the nightly clean-up (integrations_history_prune).
        indexes = [
            models.Index(fields=["received_at"], name="inbound_delivery_received"),
            # Old-scheme deliveries: a body already applied is not applied again under a new key.
            models.Index(fields=["integration", "body_sha256"], name="inbound_delivery_body"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["integration", "idempotency_key"], name="inbound_delivery_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.integration} · {self.idempotency_key}"


class RecordVersion(models.Model):
    """The newest sender timestamp applied per CRM record, so an older delivery that
    arrives late never overwrites a newer one."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    record_key = models.CharField(max_length=300)
    sender_timestamp = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "record_key"], name="record_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.record_key} @ {self.sender_timestamp:%Y-%m-%d %H:%M:%S}"


class MergeNotice(models.Model):
    """A CRM said two accounts were merged. Recorded for ops: the portal's merge of duplicate
    accounts (moving contacts, activities, aliases) belongs to the returns review, not here."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="+")
    domain = models.CharField(max_length=253, help_text="The merged-away record's domain.")
    merged_into_domain = models.CharField(max_length=253)
    account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged_into = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_timestamp = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["resolved", "-received_at"]

    def __str__(self) -> str:
        return f"{self.domain} → {self.merged_into_domain}"


class EventType(models.TextChoices):
    ACCOUNT_ASSIGNED = "account.assigned", "Account assigned"
    ACCOUNT_RETRIEVED = "account.retrieved", "Account retrieved"
    ACCOUNT_UNASSIGNED = "account.unassigned", "Account back to the pool (other than retrieval)"
    # Emitted by in-transaction hooks in apps.routing (returns), apps.leads (leads, SLA)
    # and apps.meetings (dispositions).
    RETURN_DECIDED = "return.decided", "Return decided"
    LEAD_ASSIGNED = "lead.assigned", "Lead assigned"
    SLA_BREACHED = "lead.sla_breached", "SLA breach"
    MEETING_DISPOSITIONED = "meeting.dispositioned", "Meeting dispositioned"
    # Chat alerts (apps.connect.chat): the payload is already in Slack's or Teams' format and
    # goes only to the chat channel's own endpoint.
    CHAT_ALERT = "chat.alert", "Chat alert (Slack / Teams)"


class WebhookEndpoint(models.Model):
    """Where outbox events are POSTed. A URL that is itself a credential (a chat channel's
    incoming webhook) is kept in `url_encrypted` (sdrops/secrets.py) and `url` holds only what
    may be shown of it (scheme and host); `target_url()` is the one place it is read in clear."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    url_encrypted = models.TextField(blank=True, editable=False, default="",
                                     help_text="The secret URL, encrypted at rest; never shown.")
    event_types = ArrayField(models.CharField(max_length=40, choices=EventType.choices), default=list)
    secret = models.CharField(max_length=100, default=new_secret, help_text="HMAC-SHA256 key of the Standard Webhooks signature (webhook-signature); a whsec_… "
        "secret a receiver gave you is used as such.")
    active = models.BooleanField(default=True)
    allow_private_network = models.BooleanField(
        default=False,
        help_text="Allow loopback/private/link-local addresses. Off: such URLs are refused, so a webhook "
        "cannot be aimed at internal services.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def url_is_secret(self) -> bool:
        return bool(self.url_encrypted)

    def secret_url_set(self, url: str) -> None:
        """Keep `url` encrypted; `url` shows its scheme and host only."""
        self.url_encrypted = secret_encrypt(url)
        self.url = url_shown(url).removesuffix("…")

    def target_url(self) -> str:
        """The URL to POST to (decrypted for a secret one; raises SecretUnreadable)."""
        if not self.url_encrypted:
            return self.url
        return secret_decrypt(self.url_encrypted)


class OutboxEvent(models.Model):
    """A notification for one endpoint, written in the transaction of the change it
    describes. The event id is stable across retries so receivers can de-duplicate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead letter"

    # The one map of allowed moves (apps.integrations.outbox.outbox_event_transition): an
    # attempt delivers or, after the last one, dead-letters a pending event; ops redeliver a
    # delivered or dead one, or re-queue a pending one now (pending → pending).
    TRANSITIONS = StateMachine("webhook event", {
        Status.PENDING: {Status.PENDING, Status.DELIVERED, Status.DEAD},
        Status.DELIVERED: {Status.PENDING},
        Status.DEAD: {Status.PENDING},
    })

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            # For the nightly clean-up (integrations_history_prune).
            models.Index(fields=["delivered_at"], condition=Q(status="delivered"), name="outbox_delivered_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False), name="outbox_delivered_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryAttempt(models.Model):
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="delivery_attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"
