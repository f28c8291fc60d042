from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.reporting.day_models import (  # noqa: F401  (registered with this app)
    ExceptionEnrolment,
    ExceptionMeetingDay,
    HandleDay,
    RoutingDecisionDay,
    RoutingSkipDay,
    StepReachedCadenceDay,
    StepReachedDay,
)
from apps.reporting.icp_models import AccountContacts, TierCycleDay  # noqa: F401  (registered with this app)
from apps.reporting.lead_models import ArrivalFact, OpenLeadCount  # noqa: F401  (registered with this app)
from apps.reporting.program_models import (  # noqa: F401  (registered with this app)
    ActivityLeadDay,
    CampaignOpportunity,
    CampaignOpportunityDay,
    CampaignOutcome,
    CampaignOutcomeDay,
    CampaignTouch,
    CampaignTouchDay,
    HandleFact,
    NurtureDay,
    NurtureDueDay,
    NurtureFact,
)
from sdrops.singleton import SingletonSettings


def _pct(default: str, help_text: str):
    return models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(default), help_text=help_text)


class FunnelTargets(SingletonSettings):
    """The team dashboard's targets and warning thresholds (percent), one row (pk 1), edited
    by ops in the admin. Defaults are the seed's healthy benchmarks."""

    mql_sql_target = _pct("25", "MQL → SQL above this is on target (%).")
    mql_sql_warning = _pct("15", "MQL → SQL below this is a warning (%).")
    sql_opp_target = _pct("40", "SQL → Opp above this is on target (%).")
    sql_opp_warning = _pct("25", "SQL → Opp below this is a warning (%).")
    mql_opp_target = _pct("10", "MQL → Opp above this is on target (%).")
    mql_opp_warning = _pct("5", "MQL → Opp below this is a warning (%).")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "funnel targets"
        verbose_name_plural = "funnel targets"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="funnel_targets_single_row"),
            models.CheckConstraint(condition=Q(mql_sql_warning__lte=F("mql_sql_target")), name="funnel_targets_mql_sql_ordered"),
            models.CheckConstraint(condition=Q(sql_opp_warning__lte=F("sql_opp_target")), name="funnel_targets_sql_opp_ordered"),
            models.CheckConstraint(condition=Q(mql_opp_warning__lte=F("mql_opp_target")), name="funnel_targets_mql_opp_ordered"),
            models.CheckConstraint(
                condition=Q(mql_sql_target__lte=100, sql_opp_target__lte=100, mql_opp_target__lte=100,
                            mql_sql_warning__gte=0, sql_opp_warning__gte=0, mql_opp_warning__gte=0),
                name="funnel_targets_percentages",
            ),
        ]

    def __str__(self) -> str:
        return "Funnel targets"

    def thresholds(self) -> dict[str, tuple[float, float]]:
        """rate key → (target, warning) as fractions."""
        return {
            "mql_sql": (float(self.mql_sql_target) / 100, float(self.mql_sql_warning) / 100),
            "sql_opp": (float(self.sql_opp_target) / 100, float(self.sql_opp_warning) / 100),
            "mql_opp": (float(self.mql_opp_target) / 100, float(self.mql_opp_warning) / 100),
        }


class TargetCadence(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class SegmentTarget(models.Model):
    """Default SDR targets of a segment, per period of its cadence (the seed: Enterprise and
    Mid-Market quarterly, SMB and PubSec monthly); a monthly target is a quarter's ÷ 3. The
    row with no segment covers SDRs whose segment has none. Edited by ops in the admin."""

    segment = models.CharField(max_length=20, blank=True, unique=True, choices=[
        ("smb", "SMB"), ("mid_market", "Mid-Market"), ("enterprise", "Enterprise"), ("pubsec", "PubSec")])
    cadence = models.CharField(max_length=10, choices=TargetCadence.choices, default=TargetCadence.MONTHLY)
    meetings_held = models.PositiveIntegerField(default=15, help_text="Meetings held per period.")
    saos = models.PositiveIntegerField("SAOs", default=5, help_text="Sales-accepted opportunities (reached the pipeline stage) per period.")
    pipeline = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("100000"),
                                   help_text="Pipeline amount of those SAOs per period.")

    class Meta:
        ordering = ["segment"]
        verbose_name = "segment target"

    def __str__(self) -> str:
        return f"{self.get_segment_display() or 'Any segment'}: {self.get_cadence_display().lower()}"

    def monthly(self) -> dict:
        div = Decimal(3) if self.cadence == TargetCadence.QUARTERLY else Decimal(1)
        return {"meetings_held": Decimal(self.meetings_held) / div, "saos": Decimal(self.saos) / div,
                "pipeline": Decimal(self.pipeline) / div}


class RepTarget(models.Model):
    """One SDR's targets for one month (before the ramp), set by their manager or ops; a
    month with none uses the segment's default."""

    rep = models.ForeignKey("people.Rep", on_delete=models.CASCADE, related_name="targets")
    month = models.DateField(help_text="The month's first day.")
    meetings_held = models.PositiveIntegerField()
    saos = models.PositiveIntegerField("SAOs")
    pipeline = models.DecimalField(max_digits=14, decimal_places=2)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "rep"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "month"], name="rep_target_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="rep_target_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.rep} · {self.month:%Y-%m}"


# -- rollups --------------------------------------------------------------------------------
#
# Aggregates the report pages read instead of scanning history on every request. PostgreSQL
# triggers keep them (apps/reporting/migrations/0004_rollups.py) on every write to the tables
# they summarise — services, the admin, COPY imports and raw SQL alike — in the writing
# transaction, so a page never sees a half-applied change. `manage.py rebuild_report_rollups`
# recomputes them from history (and `--check` compares without writing); apps.reporting.rollups
# holds that from-scratch definition. Days and hours are UTC buckets: a page's window (local
# midnights of the viewer's zone) reads the whole buckets inside it and the raw rows of the
# partial buckets at its two ends (apps.reporting.selectors.window_split).


class CycleDay(models.Model):
    """Lead cycles per UTC day of assignment, rep, source, lead type and campaign record: the
    funnel and lead-response counts. `breaches` holds only the breaches settled by the data
    (touched late, dispositioned untouched past the maximum, re-assigned by the SLA job); an
    untouched open cycle past its maximum breaches as time passes, so pages add those live."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    source = models.CharField(max_length=20)
    lead_type = models.CharField(max_length=20)
    campaign_id = models.BigIntegerField(null=True)
    assigned = models.IntegerField(default=0)
    picked_up = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    qualified = models.IntegerField(default=0)
    opp = models.IntegerField(default=0)
    breaches = models.IntegerField(default=0)
    no_touch = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "source", "lead_type", "campaign_id"],
                                               nulls_distinct=False, name="reporting_cycleday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id}: {self.assigned} assigned"


class ActivityHour(models.Model):
    """Non-automated activities with a rep, per UTC hour and rep: activity volume per local day
    (any zone whose midnights fall on whole UTC hours) and per period."""

    hour = models.DateTimeField()
    rep_id = models.BigIntegerField()
    activities = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "rep_id"], name="reporting_activityhour_key")]

    def __str__(self) -> str:
        return f"{self.hour} rep {self.rep_id}: {self.activities}"


class FirstTouch(models.Model):
    """Per (rep, account): the rep's first non-automated outreach (call, email, social, meeting)
    and first intelligence_run on the account, kept as activities arrive."""

    rep_id = models.BigIntegerField()
    account_id = models.BigIntegerField()
    first_outreach_at = models.DateTimeField(null=True)
    first_research_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rep_id", "account_id"], name="reporting_firsttouch_key")]
        indexes = [models.Index(fields=["first_outreach_at"], name="reporting_firsttouch_outreach")]

    def __str__(self) -> str:
        return f"rep {self.rep_id} · account {self.account_id}"


class ResearchDay(models.Model):
    """Per UTC day and rep: accounts first reached (FirstTouch.first_outreach_at that day) and how
    many of them the rep researched first."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    reached = models.IntegerField(default=0)
    researched = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id"], name="reporting_researchday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id}: {self.reached} reached"


class BookCount(models.Model):
    """Accounts as they are now, per owner (none: the pool), segment, tier, status, whether an
    ICP matched, and total-score band (0-9: ten points each, 90-100 the last): territory, the
    dashboard's books, ICP coverage's counts and score distribution. Kept by a statement trigger
    on accounts (migration 0008) — a snapshot, so there is no day.

    Append-only (migration 0041): each statement adds its signed counts as new rows, so a key
    may have several rows and every reader sums them; the books_compact job folds them back into
    one row a key. An upsert made every claim and return wait for the one pool row of its kind
    that the other claims had locked until they committed."""

    owner_id = models.BigIntegerField(null=True)
    segment = models.CharField(max_length=20)
    tier = models.CharField(max_length=1)
    status = models.CharField(max_length=20)
    matched = models.BooleanField()
    band = models.SmallIntegerField()
    accounts = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["owner_id", "segment", "tier", "status", "matched", "band"],
                                name="reporting_bookcount_keys")]

    def __str__(self) -> str:
        return f"owner {self.owner_id} {self.segment} tier {self.tier or '-'}: {self.accounts}"


class MeetingDay(models.Model):
    """Meetings per UTC day of their start, SDR, AE, status and late disposition: the meetings
    page. Every meeting is counted here; the page subtracts those booked in a lead cycle marked
    an exception (few, read through the cycles' partial index)."""

    day = models.DateField()
    sdr_id = models.BigIntegerField()
    ae_id = models.BigIntegerField()
    status = models.CharField(max_length=30)
    late = models.BooleanField()
    meetings = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "sdr_id", "ae_id", "status", "late"],
                                               name="reporting_meetingday_key")]

    def __str__(self) -> str:
        return f"{self.day} SDR {self.sdr_id} AE {self.ae_id} {self.status}: {self.meetings}"


class EnrolmentFact(models.Model):
    """One row per cadence enrolment, as the cadence rollups count it: its UTC day, rep, cadence,
    lead cycle and state, the steps done (positive, negative or no response) and each step's
    outcome by position. Kept by triggers on enrolments and their steps (recomputed for the
    enrolments a statement touched), it is what the two rollups below are the sums of."""

    enrolment_id = models.BigIntegerField(unique=True)
    enrolled_at = models.DateTimeField(db_index=True)
    rep_id = models.BigIntegerField()
    cadence_id = models.BigIntegerField()
    lead_cycle_id = models.BigIntegerField(null=True, db_index=True)
    state = models.CharField(max_length=20)
    done = models.IntegerField(default=0)
    positions = ArrayField(models.SmallIntegerField(), default=list)
    outcomes = ArrayField(models.CharField(max_length=20), default=list)

    def __str__(self) -> str:
        return f"enrolment {self.enrolment_id}: {self.state}"


class EnrolmentDay(models.Model):
    """Enrolments per UTC day enrolled, rep, cadence, state and steps done: the cadence page's
    per-cadence table."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    cadence_id = models.BigIntegerField()
    state = models.CharField(max_length=20)
    done = models.IntegerField()
    enrolments = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "cadence_id", "state", "done"],
                                               name="reporting_enrolmentday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} cadence {self.cadence_id}: {self.enrolments}"


class EnrolmentStepDay(models.Model):
    """Enrolment steps per UTC day enrolled, rep, cadence, position, outcome and the enrolment's
    state: the cadence page's per-step table."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    cadence_id = models.BigIntegerField()
    position = models.SmallIntegerField()
    outcome = models.CharField(max_length=20)
    state = models.CharField(max_length=20)
    steps = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "cadence_id", "position", "outcome", "state"],
                                               name="reporting_enrolmentstepday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} cadence {self.cadence_id} step {self.position}: {self.steps}"


class OpportunityDay(models.Model):
    """Opportunities per UTC day, sourcing SDR (or none) and stage: created that day (`kind`
    "created", with their stage now) and first reaching the pipeline stage that day ("pipeline",
    no stage) — the conversion page and pipeline generated. Amounts are sums (IACV; none: 0)."""

    kind = models.CharField(max_length=10)
    day = models.DateField()
    sdr_id = models.BigIntegerField(null=True)  # none: no sourcing SDR (the dashboard's deals count those for ops)
    stage_id = models.BigIntegerField(null=True)
    opportunities = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    priced = models.IntegerField(default=0, help_text="Of those, with an amount (an average's divisor).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day", "sdr_id", "stage_id"], nulls_distinct=False,
                                               name="reporting_opportunityday_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} SDR {self.sdr_id}: {self.opportunities}"


class ReturnDay(models.Model):
    """Account returns per UTC day filed, rep, reason, review status and outcome: the returns
    page."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    reason = models.CharField(max_length=30)
    status = models.CharField(max_length=10)
    outcome = models.CharField(max_length=20)
    returns = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "reason", "status", "outcome"],
                                               name="reporting_returnday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {self.reason}: {self.returns}"


class SegmentChangeDay(models.Model):
    """Market segment changes (apps.markets.MarketSegmentChange) per UTC day, owner of the
    account now (none: the pool), from and to segment, and whether the rules made them: the
    market segments page's movement and weekly arrivals. Kept by statement triggers on the
    changes and on accounts (an account's new owner takes its changes along; migration 0022)."""

    day = models.DateField()
    owner_id = models.BigIntegerField(null=True)
    from_segment = models.CharField(max_length=1)
    to_segment = models.CharField(max_length=1)
    by_rules = models.BooleanField()
    moves = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "owner_id", "from_segment", "to_segment", "by_rules"],
                                               nulls_distinct=False, name="reporting_segmentchangeday_key")]

    def __str__(self) -> str:
        return f"{self.day} owner {self.owner_id} {self.from_segment or '-'}→{self.to_segment or '-'}: {self.moves}"


class MarketCount(models.Model):
    """Accounts' market segment rows (apps.markets.AccountMarket) now per owner of the account
    (none: the pool), effective segment ('' : a row no rule matches) and whether an override is
    set: the market segments page's counts. Kept by triggers on the rows and on accounts' owners
    (migration 0027)."""

    owner_id = models.BigIntegerField(null=True)
    segment = models.CharField(max_length=1)
    overridden = models.BooleanField()
    accounts = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "segment", "overridden"], nulls_distinct=False,
                                               name="reporting_marketcount_key")]

    def __str__(self) -> str:
        return f"owner {self.owner_id} {self.segment or '-'}: {self.accounts}"
