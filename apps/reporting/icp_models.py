"""The ICP coverage page's rollup: kept by the statement-level triggers of migration
0030_icp_tier_cycle_day_triggers, read by apps.reporting.icp_reads. Imported by
apps.reporting.models so Django registers it."""

from __future__ import annotations

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
