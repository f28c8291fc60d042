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


ARRIVAL_READ = ["lead_type", "source", "sla_policy_id", "arrival", "local_day", "local_time", "local_dow", "responded",
                "response_s", "calendar_s"]


class ArrivalFact(models.Model):
    """One row per lead cycle with an SLA policy, not marked an exception: when it arrived
    (creation or assignment, whichever was earlier) and that moment on the wall clock of its
    rep's time zone (UTC without a rep) as the day, the time and the weekday (Monday 0), and its
    response times as the lead response page orders them (policy clock, calendar wait). The
    off-hours tables read the window's facts: whether the arrival was off-hours (the policy's
    working days, hours and holidays) is decided at read time, so editing a policy needs no
    recount; a rep's new time zone moves their facts (trigger on people_rep)."""

    cycle_id = models.BigIntegerField(unique=True)
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    source = models.CharField(max_length=20)
    sla_policy_id = models.BigIntegerField()
    assigned_at = models.DateTimeField()
    arrival = models.DateTimeField()
    local_day = models.DateField()
    local_time = models.TimeField()
    local_dow = models.SmallIntegerField()
    responded = models.BooleanField()
    response_s = models.FloatField(null=True)
    calendar_s = models.FloatField(null=True)

    class Meta:
        # The off-hours read is the window's facts (everyone's, or a team's reps'): covering
        # indexes make it index-only, in assignment order, instead of a visit to the heap rows of
        # the window scattered over the table.
        indexes = [models.Index(fields=["assigned_at"], include=ARRIVAL_READ, name="reporting_arrivalfact_window"),
                   models.Index(fields=["rep_id", "assigned_at"], include=ARRIVAL_READ, name="reporting_arrival_rep_window")]

    def __str__(self) -> str:
        return f"cycle {self.cycle_id} arrived {self.local_day} {self.local_time}"
