"""The ICP coverage and account coverage pages' rollups: kept by the statement-level triggers of
migrations 0030_icp_tier_cycle_day_triggers and 0032_icp_account_contact_triggers, read by
apps.reporting.icp_reads and apps.reporting.book_reads. Imported by apps.reporting.models so
Django registers them."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class TierCycleDay(models.Model):
    """Lead cycles not marked an exception per UTC day of assignment, rep, lead type and the
    tier and segment of the cycle's account now (both null when the contact has no account):
    the cohort's funnel by tier. The tier and segment are the account's current ones, so the
    rows move when an account changes tier or segment or a contact changes account; a cycle
    whose contact is gone is in no row (the page joins cycles to their contacts)."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    tier = models.CharField(max_length=1, null=True)
    segment = models.CharField(max_length=20, null=True)
    assigned = models.IntegerField(default=0)
    qualified = models.IntegerField(default=0)
    opp = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "lead_type", "tier", "segment"],
                                               nulls_distinct=False, name="reporting_tiercycleday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} tier {self.tier}: {self.assigned} assigned"


class AccountContacts(models.Model):
    """Per account with contacts: how many, the distinct buying roles and (lower-cased)
    personas among them, and how many have an open lead cycle — the contact side of account
    coverage × engagement, so the page reads one narrow row per account instead of every
    contact of the books. Whether an account is covered depends on the editable coverage
    settings, so the page compares these with them at read time; engagement moves with the
    clock and is read from the touches (apps.reporting.book_reads.coverage_by_owner)."""

    account_id = models.BigIntegerField(primary_key=True)
    known = models.IntegerField()
    roles = ArrayField(models.TextField())
    personas = ArrayField(models.TextField())
    in_funnel = models.IntegerField()

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.known} contacts"
