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


def _out_of_office_on(on: dt.date) -> Q:
    return Q(out_of_office_from__lte=on) & (Q(out_of_office_to__isnull=True) | Q(out_of_office_to__gte=on))


class RepQuerySet(models.QuerySet):
    def available(self, on: dt.date | None = None) -> RepQuerySet:
        """Active and not out of office on `on` (today by default): who can take new work."""
        return self.filter(active=True).exclude(_out_of_office_on(on or timezone.localdate()))

    def out_of_office(self, on: dt.date | None = None) -> RepQuerySet:
        """Out of office on `on` (today by default), active or not: the home's "who is away"."""
        return self.filter(_out_of_office_on(on or timezone.localdate()))


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

    objects = RepQuerySet.as_manager()

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

    def is_available(self, on: dt.date | None = None) -> bool:
        """Active and not out of office on `on` (the same rule as Rep.objects.available)."""
        return self.active and not self.is_out_of_office(on)

    def is_out_of_office(self, on: dt.date | None = None) -> bool:
        on = on or timezone.localdate()
        if self.out_of_office_from is None:
            return False
        return self.out_of_office_from <= on and (self.out_of_office_to is None or on <= self.out_of_office_to)


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
