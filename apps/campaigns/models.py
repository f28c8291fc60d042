"""Campaigns as records (issue 19): what marketing spent, on which offer, and every time a
contact interacted with it.

A lead cycle's campaign is the interaction that opened it (`CampaignInteraction.lead_cycle`,
one per cycle). The link lives here rather than as a column on the lead cycle so the lead
lifecycle's own tables stay as they are; `LeadCycle.campaign` (the free text it always had)
keeps the campaign's name for anything that reads it.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils import timezone

from apps.accounts.models import Account
from apps.meetings.models import Opportunity
from apps.people.models import Contact
from sdrops.singleton import SingletonSettings


class Offer(models.TextChoices):
    """What the campaign asks the prospect to do — the lead's intent differs by offer (a demo
    request wants a call today, a whitepaper download does not)."""

    DEMO_REQUEST = "demo_request", "Demo request"
    CONTACT_US = "contact_us", "Contact us"
    FREE_TRIAL = "free_trial", "Free trial"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event / tradeshow"
    OUTBOUND_PLAY = "outbound_play", "Outbound play"
    PARTNER_REFERRAL = "partner_referral", "Partner referral"
    OTHER = "other", "Other"


class Campaign(models.Model):
    class Goal(models.TextChoices):
        AWARENESS = "awareness", "Awareness"
        LEADS = "leads", "Leads (pipeline creation)"
        ACCELERATION = "acceleration", "Acceleration (open pipeline)"

    name = models.CharField(max_length=200)
    source = models.CharField(
        max_length=20, choices=Contact.Source.choices, default=Contact.Source.INBOUND,
        help_text="The lead source its leads arrive with (also what SLA policies by source key on).",
    )
    channel = models.CharField(max_length=100, blank=True, help_text="e.g. paid search, tradeshow, email, LinkedIn.")
    offer = models.CharField(max_length=20, choices=Offer.choices, default=Offer.OTHER)
    goal = models.CharField(max_length=20, choices=Goal.choices, default=Goal.LEADS)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="Total spend, for cost per opportunity / won deal.")
    owner = models.ForeignKey(
        "people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_campaigns",
        help_text="Who runs the campaign (marketing or the SDR manager of an outbound play).",
    )
    cadence = models.ForeignKey(
        "cadences.Cadence", null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns",
        help_text="Leads of this campaign are enrolled in this cadence when a rep is assigned.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="campaign_name_unique_ci"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="campaign_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="campaign_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignInteraction(models.Model):
    """One touch of a contact with a campaign (a form filled, a download, an event attended).

    `lead_cycle` is set on the interaction that opened (or was routed into) a lead cycle: that
    is the cycle's campaign. A contact already in an open cycle who interacts again gets an
    interaction without a cycle — it still counts as having interacted (the report's cohort).
    """

    class Via(models.TextChoices):
        API = "api", "API"
        CSV = "csv", "CSV (route_leads)"
        ADMIN = "admin", "Admin"
        MIGRATION = "migration", "Carried over from the free-text campaign"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="interactions")
    contact = models.ForeignKey("people.Contact", on_delete=models.CASCADE, related_name="campaign_interactions")
    lead_cycle = models.ForeignKey(
        "leads.LeadCycle", null=True, blank=True, on_delete=models.CASCADE, related_name="campaign_interactions",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=20, choices=Via.choices, default=Via.API)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead_cycle"], condition=Q(lead_cycle__isnull=False), name="campaign_interaction_one_per_cycle"),
        ]
        indexes = [
            models.Index(fields=["campaign", "contact"]),
            models.Index(fields=["contact", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.campaign} · {self.occurred_at:%Y-%m-%d}"


class OfferSlaPolicy(models.Model):
    """SLA policies keyed on the offer: a lead of a campaign with this offer starts its clock on
    this policy instead of the one for its lead type and source (a demo request gets minutes,
    a content download a day)."""

    offer = models.CharField(max_length=20, choices=Offer.choices, unique=True)
    policy = models.ForeignKey("leads.SlaPolicy", on_delete=models.CASCADE, related_name="offer_keys")

    class Meta:
        ordering = ["offer"]
        verbose_name = "SLA policy by offer"
        verbose_name_plural = "SLA policies by offer"

    def __str__(self) -> str:
        return f"{self.get_offer_display()} → {self.policy}"


class NurtureProgram(models.Model):
    """What happens to a lead nurtured for a reason: it waits `recycle_after_days`, then is
    recycled — a new lead cycle routed by the rules (fresh clock) as `recycle_lead_type`,
    and enrolled in `cadence` if one is named ("abandoned → recycle to outbound after 6
    months"; "budget next fiscal year → recycle in 9 months")."""

    name = models.CharField(max_length=120, unique=True)
    reasons = models.ManyToManyField(
        "leads.DispositionReason", through="NurtureReasonProgram", related_name="+", blank=True,
    )
    recycle_after_days = models.PositiveIntegerField(default=180, help_text="Days in nurture before the lead is recycled.")
    recycle_lead_type = models.CharField(
        max_length=20, choices=[("inbound", "Inbound"), ("outbound", "Outbound"), ("target_account", "Target account")],
        default="outbound", help_text="The lead type of the new cycle (routing rules match on it).",
    )
    cadence = models.ForeignKey(
        "cadences.Cadence", null=True, blank=True, on_delete=models.PROTECT, related_name="nurture_programs",
        help_text="Enrol the recycled lead in this cadence (with the rep routing picked).",
    )
    active = models.BooleanField(default=True, help_text="Inactive: no new leads enter it; those waiting still recycle.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NurtureReasonProgram(models.Model):
    """A nurture reason maps to one program."""

    reason = models.OneToOneField("leads.DispositionReason", on_delete=models.CASCADE, related_name="nurture_program_link")
    program = models.ForeignKey(NurtureProgram, on_delete=models.CASCADE, related_name="reason_links")

    class Meta:
        verbose_name = "nurture reason → program"

    def __str__(self) -> str:
        return f"{self.reason} → {self.program}"


class NurtureEntry(models.Model):
    """One nurtured lead cycle in its program, until it is recycled."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        RECYCLED = "recycled", "Recycled (new cycle)"
        ROUTED_NO_REP = "routed_no_rep", "Recycled, no rep available (ops queue)"
        ALREADY_BACK = "already_back", "Came back before its date"

    cycle = models.OneToOneField("leads.LeadCycle", on_delete=models.CASCADE, related_name="nurture_entry")
    contact = models.ForeignKey("people.Contact", on_delete=models.CASCADE, related_name="nurture_entries")
    program = models.ForeignKey(NurtureProgram, on_delete=models.PROTECT, related_name="entries")
    reason_label = models.CharField(max_length=200)
    entered_at = models.DateTimeField(help_text="When the lead was dispositioned to nurture.")
    recycle_due_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.WAITING)
    recycled_at = models.DateTimeField(null=True, blank=True)
    new_cycle = models.ForeignKey(
        "leads.LeadCycle", null=True, blank=True, on_delete=models.SET_NULL, related_name="recycled_from",
    )

    class Meta:
        ordering = ["recycle_due_at", "id"]
        verbose_name_plural = "nurture entries"
        indexes = [models.Index(fields=["recycle_due_at"], condition=Q(state="waiting"), name="nurture_entry_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="waiting", recycled_at__isnull=True) | (~Q(state="waiting") & Q(recycled_at__isnull=False)),
                name="nurture_entry_recycled_at_matches_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.program} · {self.get_state_display()}"


class LostOpportunityNurture(models.Model):
    """Marks a closed-lost opportunity whose account's open leads were sent to nurture, so the
    job does it once per opportunity."""

    opportunity = models.OneToOneField("meetings.Opportunity", on_delete=models.CASCADE, related_name="+")
    processed_at = models.DateTimeField(default=timezone.now)
    cycles = models.PositiveIntegerField(default=0, help_text="Lead cycles dispositioned to nurture.")

    def __str__(self) -> str:
        return f"Opportunity {self.opportunity_id}: {self.cycles} lead(s) to nurture"


class AlarmSettings(SingletonSettings):
    """The thresholds of the gaming and deals-gone-dark alarms (one row, pk=1, `load()`; ops
    edit it; its change history is kept by sdrops/models.py)."""

    cherry_pick_count = models.PositiveSmallIntegerField(
        default=5, help_text="Raise when a rep dispositions at least this many leads of one campaign or source without a real touch…")
    cherry_pick_hours = models.PositiveSmallIntegerField(default=24, help_text="…within this many hours.")
    sao_dark_days = models.PositiveSmallIntegerField(
        default=14, help_text="An SAO (open, past the pipeline stage) with no touch by its AE or sourcing SDR for this many days has gone dark.")
    sao_dark_calls = models.PositiveSmallIntegerField(
        default=3, help_text="…or whose stage has not moved while they logged at least this many calls…")
    sao_dark_emails = models.PositiveSmallIntegerField(default=3, help_text="…and this many emails (the seed's 3 calls / 3 emails).")
    iqm_pending_days = models.PositiveSmallIntegerField(
        default=7, help_text="A qualified initial meeting whose opportunity has not reached the pipeline stage (SAO) this many days later.")
    rename_count = models.PositiveSmallIntegerField(
        default=2, help_text="Raise when an account has been renamed this many times (more than once)…")
    rename_days = models.PositiveSmallIntegerField(default=90, help_text="…within this many days; each further rename raises again.")
    close_push_count = models.PositiveSmallIntegerField(
        default=2, help_text="Raise when an opportunity's close date has been pushed later this many times…")
    close_push_days = models.PositiveSmallIntegerField(default=180, help_text="…within this many days; each further push raises again.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "alarm settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="alarm_settings_single_row")]

    def __str__(self) -> str:
        return "Alarm settings"


class Alarm(models.Model):
    """One occurrence of a pattern a manager must look at. `key` names the occurrence, so the
    job raises it once however often it runs."""

    class Kind(models.TextChoices):
        CHERRY_PICKING = "cherry_picking", "Cherry-picking: leads dispositioned without a touch"
        SAO_DARK = "sao_dark", "SAO gone dark"
        IQM_PENDING = "iqm_pending", "IQM pending SAO"
        ACCOUNT_RENAMED = "account_renamed", "Account renamed more than once"
        CLOSE_DATE_PUSHED = "close_date_pushed", "Close date pushed more than once"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200)
    rep = models.ForeignKey("people.Rep", on_delete=models.CASCADE, related_name="alarms", help_text="Whose records these are.")
    manager = models.ForeignKey("people.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=255)
    detail = models.TextField(blank=True)
    cycles = models.ManyToManyField("leads.LeadCycle", blank=True, related_name="alarms")
    opportunity = models.ForeignKey("meetings.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey("meetings.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="alarm_once_per_occurrence")]
        indexes = [models.Index(fields=["manager"], condition=Q(acknowledged_at__isnull=True), name="alarm_open_by_manager")]

    def __str__(self) -> str:
        return self.title


class QualificationCriterion(models.Model):
    """A sales-ready criterion a qualified lead is checked against (the Marketo document's
    company fit, access to power, pain, timing — BANT-like). Ops edit the list; a *required*
    one must be met to qualify unless a manager overrides, as for the evidence rule."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    help_text = models.CharField(max_length=255, blank=True)
    required = models.BooleanField(default=False, help_text="Must be met to qualify (a manager may override).")
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "qualification criteria"

    def __str__(self) -> str:
        return self.label


class QualificationCheck(models.Model):
    """Whether one criterion was met when a lead cycle was qualified or a meeting completed –
    qualified; written once by `apps.campaigns.qualification.qualification_record`."""

    cycle = models.ForeignKey("leads.LeadCycle", null=True, blank=True, on_delete=models.CASCADE, related_name="qualification_checks")
    meeting = models.ForeignKey("meetings.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="qualification_checks")
    criterion = models.ForeignKey(QualificationCriterion, on_delete=models.PROTECT, related_name="checks")
    met = models.BooleanField()
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                      help_text="The manager who qualified although this required criterion was not met.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["criterion__position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "criterion"], condition=Q(cycle__isnull=False), name="qualification_once_per_cycle"),
            models.UniqueConstraint(fields=["meeting", "criterion"], condition=Q(meeting__isnull=False), name="qualification_once_per_meeting"),
            models.CheckConstraint(condition=Q(cycle__isnull=False) | Q(meeting__isnull=False), name="qualification_check_of_something"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {'met' if self.met else 'not met'}"


# Field history (issue 19 item 5: "accounts renamed or close dates pushed more than once").
# Database triggers write these rows, so every write path is covered — the account CSV
# import's set-based UPDATE, the admin, the API, the CRM sync, `QuerySet.update()` and raw SQL.
# Each trigger is a row-level AFTER UPDATE trigger with a WHEN clause on the one column:
# PostgreSQL evaluates the WHEN without calling the function, so an import that leaves the
# name as it is (or a re-import that updates no row at all) pays next to nothing; the figure
# is in docs/alarms.md. Who made the change is not known to the database (no pghistory context
# is set on these paths); the alarm names the record's owner, whose manager is told.

class AccountNameChange(models.Model):
    # No database constraint: a deferred foreign-key check per history row made renaming 100,000
    # accounts in one import 7× slower (25 s more, measured); the trigger writes the id of the row
    # it fires on, so it is right by construction. Deleting through Django still removes the rows.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, db_constraint=False, related_name="name_changes")
    old_name = models.CharField(max_length=255)
    new_name = models.CharField(max_length=255)
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["account", "changed_at"]), models.Index(fields=["changed_at"])]

    def __str__(self) -> str:
        return f"{self.old_name} → {self.new_name}"


class OpportunityCloseDateChange(models.Model):
    """Every change of an opportunity's close date; a *push* is one to a later date."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, db_constraint=False,
                                    related_name="close_date_changes")  # as above
    old_close_date = models.DateField(null=True)
    new_close_date = models.DateField(null=True)
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"]), models.Index(fields=["changed_at"])]

    def __str__(self) -> str:
        return f"{self.old_close_date} → {self.new_close_date}"

    @property
    def is_push(self) -> bool:
        return bool(self.old_close_date and self.new_close_date and self.new_close_date > self.old_close_date)


pgtrigger.register(pgtrigger.Trigger(
    name="account_name_history", when=pgtrigger.After, operation=pgtrigger.Update,
    condition=pgtrigger.AnyChange("name"),
    func=pgtrigger.Func(
        "INSERT INTO campaigns_accountnamechange (account_id, old_name, new_name, changed_at)"
        " VALUES (NEW.id, OLD.name, NEW.name, now()); RETURN NULL;"
    ),
))(Account)

pgtrigger.register(pgtrigger.Trigger(
    name="opportunity_close_date_history", when=pgtrigger.After, operation=pgtrigger.Update,
    condition=pgtrigger.AnyChange("close_date"),
    func=pgtrigger.Func(
        "INSERT INTO campaigns_opportunityclosedatechange (opportunity_id, old_close_date, new_close_date, changed_at)"
        " VALUES (NEW.id, OLD.close_date, NEW.close_date, now()); RETURN NULL;"
    ),
))(Opportunity)
