"""Admin of the lead lifecycle: ops edit SLA policies, reason lists, pull ranges and the
settings; everyone reads lead cycles and SLA breaches in their own scope. Reps work leads on
the lead page (apps.cadences.admin), which calls apps.leads.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from apps.leads.models import (
    DispositionReason,
    ExceptionReason,
    LeadCycle,
    LifecycleSettings,
    SlaBreach,
    SlaPolicy,
    TeamActivityGoals,
    TeamPullRange,
)
from apps.leads.rules import may_mark_exception
from apps.leads.services.exceptions import lead_cycle_exception_clear, lead_cycle_exception_mark
from sdrops.access import scoped_rep_ids
from sdrops.admin_scoping import ReadOnlyAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin


@admin.register(DispositionReason)
class DispositionReasonAdmin(admin.ModelAdmin):
    # `code` (the handle the system uses for its own reasons) stays on the change page only.
    list_display = ["label", "disposition", "active", "position"]
    list_filter = ["disposition", "active"]
    list_editable = ["active", "position"]
    search_fields = ["label"]
    readonly_fields = ["code"]

    def has_delete_permission(self, request, obj=None):
        # Retire a reason (active = off) instead: history points at it.
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SettingsHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["name", "lead_type", "source", "target_minutes", "maximum_minutes", "clock", "reassign", "active"]
    list_filter = ["lead_type", "clock", "active"]
    fieldsets = [
        (None, {"fields": ["name", "lead_type", "source", "active"]}),
        ("Response times", {"fields": ["target_minutes", "maximum_minutes", "reassign"]}),
        ("Clock", {"fields": ["clock", "business_start", "business_end", "working_days", "holiday_country",
                              "holiday_subdivision"],
                   "description": "Business hours run in each rep's time zone."}),
    ]


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["cycle", "kind", "rep", "assigned_at", "due_at", "breached_at", "reassigned_to"]
    list_select_related = ["cycle__contact", "rep", "reassigned_to"]
    list_filter = ["kind"]
    date_hierarchy = "breached_at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = scoped_rep_ids(user=request.user)
        return qs if ids is None else qs.filter(rep_id__in=ids)


@admin.register(LifecycleSettings)
class LifecycleSettingsAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, admin.ModelAdmin):
    """Lead lifecycle thresholds: auto-abandon days and the morning email hour."""


@admin.register(TeamActivityGoals)
class TeamActivityGoalsAdmin(admin.ModelAdmin):
    list_display = ["team", "inbound_per_day", "outbound_per_day"]
    list_select_related = ["team"]


@admin.register(TeamPullRange)
class TeamPullRangeAdmin(admin.ModelAdmin):
    list_display = ["team", "minimum", "maximum"]
    list_select_related = ["team"]


@admin.register(ExceptionReason)
class ExceptionReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "description", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["label"]

    def has_delete_permission(self, request, obj=None):
        # Retire a reason (active = off) instead: marked cycles point at it.
        return False


class ExceptionListFilter(admin.SimpleListFilter):
    title = "counted in the numbers"
    parameter_name = "exception"

    def lookups(self, request, model_admin):
        return [("yes", "Exceptions (left out)"), ("no", "Counted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exceptions()
        if self.value() == "no":
            return queryset.counted()
        return queryset


class ExceptionMarkForm(forms.Form):
    reason = forms.ModelChoiceField(queryset=ExceptionReason.objects.filter(active=True), empty_label=None,
                                    help_text="Ops edit this list (Lead lifecycle → Exception reasons).")
    note = forms.CharField(max_length=200, required=False, widget=forms.TextInput(attrs={"size": 60}),
                           help_text="Why this cycle is handled outside the process (kept with the mark).")


class ExceptionClearForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, widget=forms.TextInput(attrs={"size": 60}),
                           help_text="Why it counts again (kept in the cycle's history).")


@admin.register(LeadCycle)
class LeadCycleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contact", "number", "lead_type", "rep", "state", "assigned_at", "first_touch_at",
                    "response_time", "disposition", "disposition_reason", "bypassed_working", "exception_reason"]
    list_select_related = ["contact", "rep", "exception_reason"]
    list_filter = ["state", "lead_type", "disposition", "bypassed_working", "dispositioned_by_system",
                   ExceptionListFilter, "exception_reason"]
    search_fields = ["contact__email", "contact__last_name"]
    date_hierarchy = "assigned_at"
    actions = ["mark_exception", "clear_exception"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = scoped_rep_ids(user=request.user)
        return qs if ids is None else qs.filter(rep_id__in=ids)

    def has_exception_permission(self, request):
        return may_mark_exception(request.user)

    def _exception_action(self, request, queryset, *, action: str, form_class, title: str, verb: str, apply):
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for cycle in queryset.order_by("pk"):
                try:
                    apply(cycle, form.cleaned_data)
                    done += 1
                except (ValidationError, PermissionDenied) as error:
                    refused.append(f"{cycle}: {'; '.join(getattr(error, 'messages', [str(error)]))}")
            self.message_user(request, f"{done} lead cycle(s) {verb}.", messages.SUCCESS)
            for text in refused[:20]:
                self.message_user(request, text, messages.WARNING)
            return None
        return TemplateResponse(request, "admin/leads/leadcycle/exception_action.html", {
            **self.admin_site.each_context(request),
            "title": title, "opts": self.model._meta, "form": form, "action": action, "verb": verb,
            "cycles": queryset.select_related("contact", "rep", "exception_reason")[:200],
            "count": queryset.count(), "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })

    @admin.action(description="Mark as exceptions (leave out of every number)…", permissions=["exception"])
    def mark_exception(self, request, queryset):
        return self._exception_action(
            request, queryset, action="mark_exception", form_class=ExceptionMarkForm, verb="marked exceptions",
            title="Mark lead cycles as exceptions",
            apply=lambda cycle, data: lead_cycle_exception_mark(cycle=cycle, reason=data["reason"], note=data["note"],
                                                                actor=request.user))

    @admin.action(description="Clear the exception mark (count again)…", permissions=["exception"])
    def clear_exception(self, request, queryset):
        return self._exception_action(
            request, queryset, action="clear_exception", form_class=ExceptionClearForm, verb="counted again",
            title="Count lead cycles again",
            apply=lambda cycle, data: lead_cycle_exception_clear(cycle=cycle, note=data["note"], actor=request.user))
