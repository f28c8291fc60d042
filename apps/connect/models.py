"""Records of the connections to the sales stack (see apps/connect/apps.py).

Secrets never live here in clear text: the OIDC client secret comes from the environment,
calendar-feed secrets are stored as SHA-256 hashes and shown once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

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
