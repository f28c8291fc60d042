"""Forms for SDRs and ops: validation messages, then one service call (in the views)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from apps.accounts.domains import normalize_domain
from apps.accounts.models import Account, ActivityType
from apps.accounts.selectors import account_holding_domain
from apps.leads.models import LeadType
from apps.markets.models import TargetedPlay
from apps.people.models import Contact, Rep, Segment, Team
from apps.routing.models import ReturnOutcome, ReturnReason, RoutingRule, RulesOfEngagement
from apps.routing.selectors import reps_assignable_by, return_survivor_visible
from apps.routing.services import DEFAULT_OUTCOME
from sdrops.access import accounts_visible_to


class ReturnFileForm(forms.Form):
    # No reason is preselected: a default (it was "Duplicate") gets filed without a thought.
    reason = forms.ChoiceField(
        choices=[("", "Choose the reason…"), *[c for c in ReturnReason.choices if c[0] != ReturnReason.RETRIEVAL]],
        error_messages={"required": "Choose why you are returning the account."},
    )
    duplicate_of = forms.CharField(
        required=False, label="Duplicate of",
        help_text="For a duplicate: the domain (or id) of the account that should stay.",
    )
    get_back_on = forms.DateField(
        required=False, label="Get back to them on", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For get back to me: the date to try again.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    swap = forms.BooleanField(
        required=False, label="Swap: give me the best available replacement now",
    )

    def __init__(self, *args, account: Account, user, **kwargs):
        self.account = account
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_duplicate_of(self):
        value = (self.cleaned_data.get("duplicate_of") or "").strip()
        if not value:
            return None
        # Only accounts the filer sees: a hidden one gets the answer of a missing one.
        visible = accounts_visible_to(user=self.user)
        if value.isdigit():
            survivor = visible.filter(pk=int(value)).first()
        else:
            try:
                holder = account_holding_domain(normalize_domain(value))
            except ValidationError as error:
                raise ValidationError(error.messages) from None
            survivor = visible.filter(pk=holder.pk).first() if holder is not None else None
        if survivor is None:
            raise ValidationError(f"No account has the domain or id “{value}”.")
        if survivor.pk == self.account.pk:
            raise ValidationError("That is this account; name the other one.")
        return survivor


class ReturnReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=ReturnOutcome.choices, required=False)
    rest_days = forms.IntegerField(required=False, min_value=0, max_value=365,
                                   help_text="Empty: the rules of engagement's days for this reason.")
    reassign_to = forms.ModelChoiceField(
        queryset=Rep.objects.none(), required=False,
        help_text="For reassign: an active SDR of your teams (ops: any SDR).",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Required to reject: the rep is told why.")

    def __init__(self, *args, return_request, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].initial = DEFAULT_OUTCOME[return_request.reason]
        self.fields["reassign_to"].queryset = (
            reps_assignable_by(user=user).exclude(pk=return_request.rep_id).order_by("owner_name")
        )
        # A survivor the reviewer cannot see is treated as none: no merge offered.
        if return_survivor_visible(user=user, return_request=return_request) is None:
            self.fields["outcome"].choices = [c for c in ReturnOutcome.choices if c[0] != ReturnOutcome.MERGE]


class DistributionPreviewForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="All teams")
    segment = forms.ChoiceField(choices=[("", "All segments"), *Segment.choices], required=False)
    play = forms.ModelChoiceField(
        queryset=TargetedPlay.objects.filter(active=True), required=False, label="Targeted play",
        empty_label="None: enrolled accounts only (market segment B)",
        help_text="A targeted play hands out its named set outside the enrolled accounts, and is recorded as such.",
    )


class RulesOfEngagementForm(forms.ModelForm):
    meaningful_activity_types = forms.MultipleChoiceField(
        choices=ActivityType.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Activity types that count as working an account (automated touches never count).",
    )

    class Meta:
        model = RulesOfEngagement
        fields = [
            "inactivity_days", "rest_days", "rest_days_by_reason", "meaningful_activity_types",
            "exempt_open_opportunity", "exempt_meeting_scheduled", "exempt_pending_return",
        ]


class RoutingRuleForm(forms.ModelForm):
    segments = forms.MultipleChoiceField(choices=Segment.choices, widget=forms.CheckboxSelectMultiple, required=False)
    sources = forms.MultipleChoiceField(choices=Contact.Source.choices, widget=forms.CheckboxSelectMultiple, required=False)
    lead_types = forms.MultipleChoiceField(choices=LeadType.choices, widget=forms.CheckboxSelectMultiple, required=False)
    tiers = forms.MultipleChoiceField(choices=[("A", "A"), ("B", "B"), ("C", "C"), ("-", "No ICP match")],
                                      widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = RoutingRule
        fields = ["name", "position", "active", "strategy", "segments", "regions", "countries", "sources", "lead_types", "tiers"]
