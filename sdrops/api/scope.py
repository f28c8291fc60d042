"""The filters every report page shares, and the scope they resolve to.

Filters travel in the URL (GET), so a page can be shared. Team and rep choices are limited to
what the user may see (apps.people.selectors): a manager who edits the URL to another team's
id gets a form error naming the field, and the page computes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_filters
from django import forms
from django.utils import timezone

from apps.leads.models import LeadType
from apps.people.models import Rep, Segment, Team
from sdrops.access import (  # noqa: F401 (defined in the access module; re-exported for existing callers)
    scoped_rep_ids,
    teams_visible_to,
)

DEFAULT_DAYS = 30
MAX_DAYS = 400


def _teams(request):
    return teams_visible_to(user=request.user) if request is not None else Team.objects.none()


def _reps(request):
    if request is None:
        return Rep.objects.none()
    ids = scoped_rep_ids(user=request.user)
    qs = Rep.objects.exclude(role=Rep.Role.OPS)
    return qs if ids is None else qs.filter(pk__in=ids)


@dataclass(frozen=True)
class Scope:
    """What a page computes over: a half-open time window [start, end) in the server's time
    zone, and the reps whose records count (None: everyone, including unassigned records)."""

    user: object
    date_from: dt.date
    date_to: dt.date
    start: dt.datetime
    end: dt.datetime
    rep_ids: tuple[int, ...] | None
    team: Team | None = None
    rep: Rep | None = None
    segment: str = ""
    lead_type: str = ""

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def rep_filter(self, field: str = "rep_id") -> dict:
        """ORM keyword filter limiting `field` to the reps in scope (nothing for ops unfiltered)."""
        return {} if self.rep_ids is None else {f"{field}__in": self.rep_ids}


class ReportFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_to", f"“To” ({end}) is before “From” ({start}).")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("date_from", f"The range is {(end - start).days + 1} days; at most {MAX_DAYS} days.")
        return cleaned


class ReportFilterSet(django_filters.FilterSet):
    """Resolves to a `Scope`; filters the reps (team, rep, segment) the page counts."""

    date_from = django_filters.DateFilter(label="From", method="_keep", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(label="To", method="_keep", widget=forms.DateInput(attrs={"type": "date"}))
    team = django_filters.ModelChoiceFilter(
        queryset=_teams, field_name="team", empty_label="All my teams",
        error_messages={"invalid_choice": "That team is not one you may report on: choose one of your teams."},
    )
    rep = django_filters.ModelChoiceFilter(
        queryset=_reps, field_name="pk", label="Rep", empty_label="All reps",
        error_messages={"invalid_choice": "That rep is not one you may report on: choose one of your reps."},
    )
    segment = django_filters.ChoiceFilter(label="Segment", choices=Segment.choices, method="_keep", empty_label="All segments")
    lead_type = django_filters.ChoiceFilter(label="Lead type", choices=LeadType.choices, method="_keep",
                                            empty_label="All lead types")

    class Meta:
        model = Rep
        fields: list[str] = []
        form = ReportFilterForm

    def __init__(self, data=None, *args, page=None, **kwargs):
        self.page = page
        data = data.copy() if data is not None else {}
        today = timezone.localdate()
        if not data.get("date_to"):
            data["date_to"] = today.isoformat()
        if not data.get("date_from"):
            try:
                to = dt.date.fromisoformat(str(data["date_to"]))
            except ValueError:
                to = today
            data["date_from"] = (to - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        super().__init__(data, *args, **kwargs)
        used = getattr(page, "filters", ("date", "team", "rep", "segment", "lead_type"))
        for name, key in (("date_from", "date"), ("date_to", "date"), ("team", "team"), ("rep", "rep"),
                          ("segment", "segment"), ("lead_type", "lead_type")):
            if key not in used:
                self.filters.pop(name, None)

    @property
    def form(self):
        form = super().form
        roles = getattr(self.page, "rep_roles", None)
        if roles and "rep" in form.fields and not getattr(form, "_rep_list_by_role", False):
            # A page about SDRs (the scorecard) lists only SDRs; another rep given in the URL
            # still validates, so the page can say why it shows nothing for them.
            field = form.fields["rep"]
            field.widget.choices = [("", field.empty_label)] + [
                (rep.pk, str(rep)) for rep in field.queryset.filter(role__in=roles).order_by("owner_name")
            ]
            form._rep_list_by_role = True
        return form

    def _keep(self, queryset, name, value):
        return queryset

    def scope(self, *, user, segment_filters_reps: bool = True) -> Scope:
        """Call after is_valid(). Resolves the reps in scope with one query (none for ops unfiltered)."""
        data = self.form.cleaned_data
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        team, rep = data.get("team"), data.get("rep")
        segment, lead_type = data.get("segment") or "", data.get("lead_type") or ""
        visible = scoped_rep_ids(user=user)
        filtered = bool(team or rep or (segment and segment_filters_reps))
        if visible is None and not filtered:
            rep_ids = None
        else:
            qs = Rep.objects.all() if visible is None else Rep.objects.filter(pk__in=visible)
            if team:
                qs = qs.filter(team=team)
            if rep:
                qs = qs.filter(pk=rep.pk)
            if segment and segment_filters_reps:
                qs = qs.filter(segment=segment)
            rep_ids = tuple(sorted(qs.values_list("pk", flat=True)))
        return Scope(user=user, date_from=date_from, date_to=date_to, start=start, end=end, rep_ids=rep_ids,
                     team=team, rep=rep, segment=segment, lead_type=lead_type)
