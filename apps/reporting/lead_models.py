"""Lead-cycle rollups of the lead response and scorecard pages (and the balance page): kept by
the statement-level triggers of migration 0030_lresp_open_lead_count_triggers, read by
apps.reporting.lead_reads. Imported by apps.reporting.models so Django registers them."""

from __future__ import annotations

from django.db import models


class OpenLeadCount(models.Model):
    """Lead cycles open now (assigned or working, not marked an exception) per rep (none: not
    assigned) and lead type: the scorecard's and the balance page's open inbound leads. A
    snapshot, so there is no day; a cycle counts once (one open cycle per contact)."""

    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    open = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rep_id", "lead_type"], nulls_distinct=False,
                                               name="reporting_openleadcount_key")]

    def __str__(self) -> str:
        return f"rep {self.rep_id} {self.lead_type}: {self.open} open"
