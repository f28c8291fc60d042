"""The rollups of the program pages (balance, capacity planner): kept by the statement-level
triggers of migration 0022, read by apps.reporting.rollups_programs. Imported by
apps.reporting.models so Django registers them."""

from __future__ import annotations

from django.db import models


class ActivityLeadDay(models.Model):
    """Non-automated activities with a rep per UTC day, rep and whether they count as inbound
    work (the contact's latest lead cycle assigned at or before the touch is inbound): the
    balance page's and the scorecard's inbound / outbound split. Touches on a cycle marked an
    exception are in no row (apps.reporting.balance)."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    inbound = models.BooleanField()
    activities = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "inbound"], name="reporting_activityleadday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {'inbound' if self.inbound else 'outbound'}: {self.activities}"


class HandleFact(models.Model):
    """One row per dispositioned lead cycle not marked an exception: its rep, lead type, first
    touch and disposition times and the real touches (call, email, social, meeting; not
    automated) on its contact from assignment to disposition — the handle-time table of the
    balance page and the capacity planner, without a per-cycle count over activities."""

    cycle_id = models.BigIntegerField(unique=True)
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    first_touch_at = models.DateTimeField(null=True)
    dispositioned_at = models.DateTimeField(db_index=True)
    touches = models.IntegerField(default=0)

    class Meta:
        # The balance page's median handle time: an index-only read of the window's touched facts.
        indexes = [models.Index(fields=["dispositioned_at"], include=["rep_id", "lead_type", "first_touch_at"],
                                condition=models.Q(first_touch_at__isnull=False), name="reporting_handlefact_touched")]

    def __str__(self) -> str:
        return f"cycle {self.cycle_id}: {self.touches} touches"


class NurtureFact(models.Model):
    """One row per lead in nurture now: the contact's latest lead cycle, dispositioned nurture,
    not marked an exception, with its rep, lead type, reason, disposition time and its program
    entry (waiting or not, recycle due) — the nurture page's "in nurture" table, without a scan
    of every nurtured cycle and a later-cycle lookup for each."""

    cycle_id = models.BigIntegerField(unique=True)
    contact_id = models.BigIntegerField(db_index=True)
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    dispositioned_at = models.DateTimeField(null=True)
    in_program = models.BooleanField(null=True)
    recycle_due_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"cycle {self.cycle_id}: {self.reason}"


class CampaignOutcome(models.Model):
    """One row per lead cycle not marked an exception with an outcome the campaign page counts:
    a won deal (a Completed – Qualified meeting whose opportunity reached the pipeline stage and
    closed won), a cadence run to its end, a cadence abandoned early (dispositioned after at
    most EARLY_ABANDON_STEPS steps done), meetings held. Kept by migration 0027's triggers;
    the partial days at a window's ends read it by assignment time."""

    cycle_id = models.BigIntegerField(db_index=True)
    assigned_at = models.DateTimeField(db_index=True)
    rep_id = models.BigIntegerField(null=True)
    source = models.CharField(max_length=20)
    lead_type = models.CharField(max_length=20)
    campaign_id = models.BigIntegerField(null=True)
    won = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)
    early = models.IntegerField(default=0)
    held = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"cycle {self.cycle_id}: won {self.won}, held {self.held}"


class CampaignOutcomeDay(models.Model):
    """CampaignOutcome summed per UTC day of assignment, rep, source, lead type and campaign
    record (reporting_cycleday's key): the campaign page's won, cadence completed / abandoned
    early and meetings held for the whole days of a window."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    source = models.CharField(max_length=20)
    lead_type = models.CharField(max_length=20)
    campaign_id = models.BigIntegerField(null=True)
    won = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)
    early = models.IntegerField(default=0)
    held = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "source", "lead_type", "campaign_id"],
                                               nulls_distinct=False, name="reporting_campaignoutcomeday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} campaign {self.campaign_id}: won {self.won}"


class CampaignTouch(models.Model):
    """One row per (lead cycle not marked an exception, campaign its contact interacted with, at
    any time): the campaign page's similar cohort leaves these cycles out of the pair totals.
    Whether a contact interacted with a campaign is a set, not a count per day, so it is kept per
    cycle and campaign (migration 0030_camp_campaign_touches' triggers); the partial days at a
    window's ends read it by assignment time."""

    cycle_id = models.BigIntegerField(db_index=True)
    campaign_id = models.BigIntegerField()
    assigned_at = models.DateTimeField(db_index=True)
    rep_id = models.BigIntegerField(null=True)
    source = models.CharField(max_length=20)
    lead_type = models.CharField(max_length=20)
    is_sql = models.BooleanField()
    is_opp = models.BooleanField()
    is_won = models.BooleanField()

    def __str__(self) -> str:
        return f"cycle {self.cycle_id} touched campaign {self.campaign_id}"


class CampaignTouchDay(models.Model):
    """CampaignTouch summed per UTC day of assignment, rep, source, lead type and campaign: the
    similar cohort's interacted part for the whole days of a window."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    source = models.CharField(max_length=20)
    lead_type = models.CharField(max_length=20)
    campaign_id = models.BigIntegerField()
    leads = models.IntegerField(default=0)
    sql = models.IntegerField(default=0)
    opp = models.IntegerField(default=0)
    won = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "source", "lead_type", "campaign_id"],
                                               nulls_distinct=False, name="reporting_campaigntouchday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} campaign {self.campaign_id}: {self.leads} touched"


class NurtureDay(models.Model):
    """NurtureFact counted per UTC day of the nurture disposition (none: no disposition time),
    rep, lead type and reason, with how many wait in a program: the nurture page's counts and
    age bands, and where its median lies (migration 0031_camp_nurture_days)."""

    day = models.DateField(null=True)
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    leads = models.IntegerField(default=0)
    in_program = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "lead_type", "reason"],
                                               nulls_distinct=False, name="reporting_nurtureday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {self.reason}: {self.leads} in nurture"


class NurtureDueDay(models.Model):
    """NurtureFact waiting in a program, counted per UTC day of the recycle date, rep, lead type
    and reason: the nurture page's "recycle due in 30 days"."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    leads = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "lead_type", "reason"],
                                               nulls_distinct=False, name="reporting_nurturedueday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {self.reason}: {self.leads} due"


class CampaignOpportunity(models.Model):
    """One row per (lead cycle not marked an exception with a campaign, opportunity of one of its
    Completed – Qualified meetings that reached the pipeline stage): the campaign page's
    opportunities, pipeline and won deals. `shared`: another cycle of the same campaign came to the
    same opportunity, so it is in no day row and the page counts it distinct from these rows
    (migration 0032_camp_campaign_opportunities)."""

    cycle_id = models.BigIntegerField()
    assigned_at = models.DateTimeField()
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    campaign_id = models.BigIntegerField()
    opportunity_id = models.BigIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    won = models.BooleanField()
    shared = models.BooleanField()

    class Meta:
        db_table = "reporting_campaignopp"

    def __str__(self) -> str:
        return f"cycle {self.cycle_id} → opportunity {self.opportunity_id}"


class CampaignOpportunityDay(models.Model):
    """The unshared CampaignOpportunity rows summed per UTC day of assignment, rep, lead type and
    campaign: opportunities, pipeline, won deals and won amount for a window's whole days."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    campaign_id = models.BigIntegerField()
    opportunities = models.IntegerField(default=0)
    pipeline = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    won = models.IntegerField(default=0)
    won_amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        db_table = "reporting_campaignoppday"
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "lead_type", "campaign_id"],
                                               nulls_distinct=False, name="reporting_campaignoppday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} campaign {self.campaign_id}: {self.opportunities} opportunities"
