"""Forms SDRs use on a lead's page: log an activity, disposition the lead, enrol it in a
cadence. Each validates its fields, then the view makes one service call."""

from __future__ import annotations

from django import forms

from apps.accounts.models import ActivityType
from apps.cadences.models import Cadence, EnrolmentStep
from apps.campaigns.models import QualificationCriterion
from apps.leads.models import DispositionReason, LeadCycle

LOGGABLE_TYPES = [
    (ActivityType.CALL, "Call"), (ActivityType.EMAIL, "Email"), (ActivityType.SOCIAL, "Social"),
    (ActivityType.MEETING, "Meeting"), (ActivityType.NOTE, "Note (does not count as work)"),
]
STEP_OUTCOMES = [
    (EnrolmentStep.Outcome.NO_RESPONSE, "No response — on to the next step"),
    (EnrolmentStep.Outcome.POSITIVE, "Positive response — answered positively or booked a meeting"),
    (EnrolmentStep.Outcome.NEGATIVE, "Negative response — no interest or unsubscribe"),
]


class ActivityLogForm(forms.Form):
    type = forms.ChoiceField(choices=LOGGABLE_TYPES)
    outcome = forms.ChoiceField(
        choices=STEP_OUTCOMES, initial=EnrolmentStep.Outcome.NO_RESPONSE,
        help_text="For a lead in a cadence: how the current step ended.",
    )
    subject = forms.CharField(max_length=255, required=False)
    occurred_at = forms.DateTimeField(required=False, help_text="Empty: now.",
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_disposition_display()}: {obj.label}"


class DispositionForm(forms.Form):
    disposition = forms.ChoiceField(choices=LeadCycle.Disposition.choices)
    reason = ReasonChoiceField(
        queryset=DispositionReason.objects.filter(active=True), required=False,
        help_text="Required for nurture and unqualified; pick one from that list.",
    )
    override = forms.BooleanField(
        required=False, label="Manager override",
        help_text="Qualify without a meeting or opportunity, or without a required criterion (managers only).",
    )
    criteria_met = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Sales-ready criteria met",
        help_text="For qualified: tick what this lead meets (ops keep the list; required ones must be met).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criteria_met"].choices = [
            (c.code, f"{c.label}{' (required)' if c.required else ''}") for c in QualificationCriterion.objects.filter(active=True)
        ]

    def clean(self):
        data = super().clean()
        disposition, reason = data.get("disposition"), data.get("reason")
        if disposition in ("nurture", "unqualified"):
            if reason is None:
                self.add_error("reason", f"A {disposition} disposition needs a reason from the list.")
            elif reason.disposition != disposition:
                self.add_error("reason", f"“{reason.label}” is a {reason.disposition} reason, not a {disposition} one.")
        return data


class EnrolForm(forms.Form):
    cadence = forms.ModelChoiceField(queryset=Cadence.objects.filter(active=True))


class FollowUpForm(forms.Form):
    """A follow-up on this lead: what and when (entered in the viewer's time zone)."""

    title = forms.CharField(max_length=200, label="Follow up on", help_text="E.g. “Call back: budget approved in Q3”.")
    due_at = forms.DateTimeField(label="Due", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, **kwargs):
        from django.utils import timezone

        super().__init__(*args, **kwargs)
        self.fields["due_at"].help_text = f"Your time zone: {timezone.get_current_timezone_name()}."


class FollowUpDoneForm(forms.Form):
    task = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    activity_type = forms.ChoiceField(choices=LOGGABLE_TYPES, initial=ActivityType.CALL, label="Logged as")
