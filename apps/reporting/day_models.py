"""Day rollups over per-row facts, routing decisions and exception meetings (the balance page,
the capacity planner, the fairness statement, the meetings page): kept by the statement triggers
of migrations 0030, 0032, 0034, 0036 and 0038, read by apps.reporting.handle_days,
apps.reporting.fairness_reads, apps.reporting.sales_reads and apps.reporting.cadence_reads. Imported by apps.reporting.models so Django registers them."""

from __future__ import annotations

from django.db import models


class HandleDay(models.Model):
    """reporting_handlefact summed per UTC day of disposition, rep and lead type: dispositions,
    touches, those with a first touch and their handle seconds (disposition − first touch), so
    the handle-time counts and means of a window read its days, not every dispositioned cycle.
    The median is no sum: the balance page reads it from the window's facts."""

    day = models.DateField()
    rep_id = models.BigIntegerField(null=True)
    lead_type = models.CharField(max_length=20)
    dispositions = models.IntegerField(default=0)
    touches = models.BigIntegerField(default=0)
    handled = models.IntegerField(default=0)
    # Exact: the sum of EXTRACT(EPOCH …) values (numeric, microseconds), so sum ÷ handled is the mean
    # the history statement's avg() gives.
    handle_s = models.DecimalField(max_digits=30, decimal_places=6, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "lead_type"], nulls_distinct=False,
                                               name="reporting_handleday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {self.lead_type}: {self.dispositions}"


class RoutingDecisionDay(models.Model):
    """Routing decisions per UTC day decided, the rep they went to and their outcome: the
    fairness statement's turns (rule decisions) for the whole days of a window."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    outcome = models.CharField(max_length=20)
    decisions = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "outcome"], name="reporting_routingdecisionday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {self.outcome}: {self.decisions}"


class RoutingSkipDay(models.Model):
    """Routing decisions' skips (the elements of RoutingDecision.skipped) per UTC day decided,
    skipped rep and reason: the fairness statement's "Skipped: …" columns for the whole days of
    a window; the partial days at its ends read the decisions themselves. Only elements whose
    rep_id is a JSON number are counted (the routing services write them so)."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    reason = models.TextField()  # as the decision recorded it ('' when it recorded none)
    skips = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "reason"], name="reporting_routingskipday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} {self.reason}: {self.skips}"


class ExceptionMeetingDay(models.Model):
    """The meetings booked in a lead cycle marked an exception, per UTC day of their start, SDR,
    AE, status and late disposition (reporting.MeetingDay's key): what the meetings page
    subtracts from MeetingDay's whole days, instead of hashing the window's every meeting
    against every exception cycle. Kept by triggers on meetings and on lead cycles (a mark set
    or cleared moves the cycle's meetings in or out)."""

    day = models.DateField()
    sdr_id = models.BigIntegerField()
    ae_id = models.BigIntegerField()
    status = models.CharField(max_length=30)
    late = models.BooleanField()
    meetings = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "sdr_id", "ae_id", "status", "late"],
                                               name="reporting_exceptionmeetingday_key")]

    def __str__(self) -> str:
        return f"{self.day} SDR {self.sdr_id} AE {self.ae_id} {self.status}: {self.meetings}"


class ExceptionEnrolment(models.Model):
    """The enrolment facts (reporting.EnrolmentFact) of lead cycles marked an exception, by
    enrolment time: what the cadence page subtracts from its rollups' whole days, read through
    this small table's time index instead of hashing the window's every fact against every
    exception cycle. Kept by triggers on the facts and on lead cycles' marks."""

    enrolment_id = models.BigIntegerField(unique=True)
    lead_cycle_id = models.BigIntegerField(db_index=True)
    enrolled_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"enrolment {self.enrolment_id} (exception cycle {self.lead_cycle_id})"


class StepReachedDay(models.Model):
    """reporting.EnrolmentStepDay's reached steps (a pending step of an ended enrolment was never
    reached, and is in no row) per UTC day, rep, cadence, position and outcome: the cadence page's
    step table for a rep scope without the enrolment state in the key (half the rows)."""

    day = models.DateField()
    rep_id = models.BigIntegerField()
    cadence_id = models.BigIntegerField()
    position = models.SmallIntegerField()
    outcome = models.CharField(max_length=20)
    steps = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id", "cadence_id", "position", "outcome"],
                                               name="reporting_stepreachedday_key")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} cadence {self.cadence_id} step {self.position} {self.outcome}: {self.steps}"


class StepReachedCadenceDay(models.Model):
    """The same summed over reps: the step table for everyone in scope (ops unfiltered), a few
    rows per day and cadence however many reps and enrolments there are."""

    day = models.DateField()
    cadence_id = models.BigIntegerField()
    position = models.SmallIntegerField()
    outcome = models.CharField(max_length=20)
    steps = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "cadence_id", "position", "outcome"],
                                               name="reporting_stepreachedcadenceday_key")]

    def __str__(self) -> str:
        return f"{self.day} cadence {self.cadence_id} step {self.position} {self.outcome}: {self.steps}"
