"""Forms of the meeting flow: validation messages, then one service call (in admin.py)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from apps.campaigns.models import QualificationCriterion
from apps.leads.selectors import disposition_reasons_offered
from apps.meetings.models import Meeting, Opportunity, OpportunityStage
from apps.meetings.selectors import aes_for_sdr, meeting_settings_get
from apps.meetings.services import opportunity_stage_check
from apps.people.models import Rep

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=DateTimeLocalInput(), input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
    )


class LocalTimeFormMixin:
    """Times are typed in the user's time zone (apps.workspace.middleware activates it); say which."""

    def _label_time_zone(self, *names):
        for name in names:
            self.fields[name].help_text = f"In your time zone ({timezone.get_current_timezone_name()})."


class MeetingBookForm(LocalTimeFormMixin, forms.Form):
    sdr = forms.ModelChoiceField(queryset=Rep.objects.none(), label="SDR", help_text="Who booked it (credited).")
    ae = forms.ModelChoiceField(queryset=Rep.objects.none(), label="AE")
    kind = forms.ChoiceField(choices=Meeting.Kind.choices, initial=Meeting.Kind.IQM)
    scheduled_at = _datetime_field("Starts at")
    duration_minutes = forms.IntegerField(min_value=5, max_value=480, label="Duration (minutes)")
    sdr_attends = forms.BooleanField(required=False, initial=True, label="SDR attends")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Pre-meeting notes")

    def __init__(self, *args, sdr: Rep | None, sdr_choices, default_ae: Rep | None, **kwargs):
        super().__init__(*args, **kwargs)
        self._label_time_zone("scheduled_at")
        self.fields["duration_minutes"].initial = meeting_settings_get().default_duration_minutes
        self.fields["sdr"].queryset = sdr_choices
        if sdr is not None:
            self.fields["sdr"].initial = sdr.pk
            self.fields["ae"].queryset = aes_for_sdr(sdr=sdr)
        else:
            self.fields["ae"].queryset = Rep.objects.filter(role=Rep.Role.AE, active=True)
        if default_ae is not None:
            self.fields["ae"].initial = default_ae.pk
        if sdr_choices.count() == 1:
            self.fields["sdr"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        start = data.get("scheduled_at")
        if start is not None and data.get("duration_minutes"):
            data["scheduled_end_at"] = start + dt.timedelta(minutes=data["duration_minutes"])
        return data


class LeadReasonField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_disposition_display()}: {obj.label}"


class MeetingDispositionForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(value, Meeting.Status(value).label) for value in Meeting.DISPOSITIONS])
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    lead_reason = LeadReasonField(
        queryset=disposition_reasons_offered(), required=False, label="Lead reason",
        help_text="Needed for Completed – Unqualified: the lead is dispositioned with it.",
    )
    # The lead page's sales-ready criteria, for Completed – Qualified (apps.campaigns.qualification).
    criteria_met = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Sales-ready criteria met",
        help_text="For Completed – Qualified: tick what the lead meets (required ones must be met).",
    )
    override = forms.BooleanField(
        required=False, label="Manager override",
        help_text="Qualify although a required criterion is not met (managers and ops only).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criteria_met"].choices = [
            (c.code, f"{c.label}{' (required)' if c.required else ''}") for c in QualificationCriterion.objects.filter(active=True)
        ]

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Meeting.Status.COMPLETED_UNQUALIFIED and not data.get("lead_reason"):
            self.add_error("lead_reason", "Pick the reason the lead is unqualified or not ready.")
        return data


class MeetingRescheduleForm(LocalTimeFormMixin, forms.Form):
    scheduled_at = _datetime_field("New start")
    duration_minutes = forms.IntegerField(min_value=5, max_value=480, label="Duration (minutes)")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Pre-meeting notes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._label_time_zone("scheduled_at")

    def clean(self):
        data = super().clean()
        if data.get("scheduled_at") and data.get("duration_minutes"):
            data["scheduled_end_at"] = data["scheduled_at"] + dt.timedelta(minutes=data["duration_minutes"])
        return data


class MeetingCancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(choices=Meeting.CancelledBy.choices, label="Cancelled by")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class OpportunityAdminForm(forms.ModelForm):
    """Validates a stage change with the service's own rules, so the save cannot fail."""

    cs_owner = forms.ModelChoiceField(
        queryset=Rep.objects.filter(active=True), required=False, label="Customer-success owner",
        help_text="When closing as won: who looks after the new customer.",
    )

    class Meta:
        model = Opportunity
        fields = [
            "name", "account", "owner", "stage", "amount", "close_date",
            "closed_lost_reason", "merged_into", "closed_lost_details",
        ]

    def clean(self):
        data = super().clean()
        stage: OpportunityStage | None = data.get("stage")
        if stage is None:
            return data
        if self.instance.pk and self.instance.stage_id == stage.pk:
            if "closed_lost_reason" in self.changed_data or "merged_into" in self.changed_data:
                self.add_error("closed_lost_reason", "The closed-lost reason is set when closing the opportunity.")
            return data
        if not self.instance.pk and not stage.is_open:
            self.add_error("stage", "A new opportunity starts in an open stage.")
            return data
        probe = self.instance if self.instance.pk else Opportunity(account=data.get("account"))
        try:
            opportunity_stage_check(
                opportunity=probe, stage=stage, closed_lost_reason=data.get("closed_lost_reason") or "",
                merged_into=data.get("merged_into"),
            )
        except forms.ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
            else:
                self.add_error(None, error.messages)
        return data
