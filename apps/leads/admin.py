"""Admin of the lead lifecycle: ops edit SLA policies, reason lists, pull ranges and the
settings; everyone reads lead cycles and SLA breaches in their own scope. Reps work leads on
the lead page (apps.cadences.admin), which calls apps.leads.services."""

from __future__ import annotations

from django.contrib import admin

from apps.leads.models import (
    DispositionReason,
    LeadCycle,
    LifecycleSettings,
    SlaBreach,
    SlaPolicy,
    TeamPullRange,
)
from sdrops.access import scoped_rep_ids
from sdrops.admin_scoping import ReadOnlyAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin


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
class LifecycleSettingsAdmin(SettingsHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "auto_abandon_working_days", "auto_abandon_idle_days", "morning_email_hour"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TeamPullRange)
class TeamPullRangeAdmin(admin.ModelAdmin):
    list_display = ["team", "minimum", "maximum"]
    list_select_related = ["team"]


@admin.register(LeadCycle)
class LeadCycleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contact", "number", "lead_type", "rep", "state", "assigned_at", "first_touch_at",
                    "response_time", "disposition", "disposition_reason", "bypassed_working"]
    list_select_related = ["contact", "rep"]
    list_filter = ["state", "lead_type", "disposition", "bypassed_working", "dispositioned_by_system"]
    search_fields = ["contact__email", "contact__last_name"]
    date_hierarchy = "assigned_at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = scoped_rep_ids(user=request.user)
        return qs if ids is None else qs.filter(rep_id__in=ids)
