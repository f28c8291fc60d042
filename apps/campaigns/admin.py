from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q

from apps.campaigns.models import (
    Alarm,
    AlarmSettings,
    Campaign,
    CampaignInteraction,
    NurtureEntry,
    NurtureProgram,
    NurtureReasonProgram,
    OfferSlaPolicy,
    QualificationCriterion,
)
from sdrops.access import alarms_visible_to, campaign_interactions_visible_to, nurture_entries_visible_to
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "channel", "offer", "goal", "starts_on", "ends_on", "cost", "owner", "cadence", "leads")
    list_filter = ("offer", "source", "goal")
    search_fields = ("name", "channel")
    list_select_related = ("owner", "cadence")
    autocomplete_fields = ("owner",)
    fieldsets = (
        (None, {"fields": ("name", "source", "channel", "offer", "goal", "description")}),
        ("Dates and spend", {"fields": ("starts_on", "ends_on", "cost", "owner")}),
        ("Leads", {"fields": ("cadence",), "description": "Leads of this campaign are enrolled in the cadence when a rep is assigned."}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            lead_count=Count("interactions", filter=Q(interactions__lead_cycle__isnull=False))
        )

    @admin.display(description="Leads", ordering="lead_count")
    def leads(self, obj):
        return obj.lead_count

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.cadence_id and not obj.cadence.steps.exists():
            messages.warning(request, f"The cadence “{obj.cadence}” has no steps: leads will not be enrolled until it has.")


@admin.register(CampaignInteraction)
class CampaignInteractionAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Interactions are written by lead intake (API, route_leads, the contact admin); here they
    are read."""

    scope_selector = campaign_interactions_visible_to
    list_display = ("occurred_at", "campaign", "contact", "lead_cycle", "via")
    list_filter = ("via", "campaign__offer")
    search_fields = ("contact__email", "campaign__name")
    list_select_related = ("campaign", "contact", "lead_cycle")
    date_hierarchy = "occurred_at"


@admin.register(OfferSlaPolicy)
class OfferSlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("offer", "policy")
    list_select_related = ("policy",)


class NurtureReasonInline(admin.TabularInline):
    model = NurtureReasonProgram
    extra = 1
    autocomplete_fields = ("reason",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "reason":
            from apps.leads.models import DispositionReason

            kwargs["queryset"] = DispositionReason.objects.filter(disposition="nurture")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(NurtureProgram)
class NurtureProgramAdmin(admin.ModelAdmin):
    list_display = ("name", "recycle_after_days", "recycle_lead_type", "cadence", "active", "reason_list")
    list_select_related = ("cadence",)
    inlines = [NurtureReasonInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("reason_links__reason")

    @admin.display(description="Nurture reasons")
    def reason_list(self, obj):
        return ", ".join(link.reason.label for link in obj.reason_links.all()) or "—"


@admin.register(NurtureEntry)
class NurtureEntryAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the nurture job; read here."""

    scope_selector = nurture_entries_visible_to
    list_display = ("contact", "program", "reason_label", "entered_at", "recycle_due_at", "state", "new_cycle")
    list_filter = ("state", "program")
    search_fields = ("contact__email",)
    list_select_related = ("contact", "program", "new_cycle")
    date_hierarchy = "recycle_due_at"


@admin.register(AlarmSettings)
class AlarmSettingsAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, admin.ModelAdmin):
    """One row of thresholds; ops edit it (each edit recorded with who made it)."""


@admin.action(description="Acknowledge the selected alarms", permissions=["change"])
def alarms_acknowledge(modeladmin, request, queryset):
    from django.utils import timezone

    count = queryset.filter(acknowledged_at__isnull=True).update(acknowledged_at=timezone.now(), acknowledged_by=request.user)
    modeladmin.message_user(request, f"{count} alarm(s) acknowledged.")


@admin.register(Alarm)
class AlarmAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Raised by the alarms job; managers read their teams' and acknowledge them."""

    scope_selector = alarms_visible_to
    list_display = ("raised_at", "kind", "title", "rep", "manager", "emailed_at", "acknowledged_at")
    list_filter = ("kind", ("acknowledged_at", admin.EmptyFieldListFilter))
    list_select_related = ("rep", "manager")
    search_fields = ("title", "rep__owner_name")
    actions = [alarms_acknowledge]
    fields = ("kind", "title", "detail", "rep", "manager", "raised_at", "emailed_at", "acknowledged_at",
              "acknowledged_by", "records")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Records")
    def records(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html, format_html_join

        links = [(reverse("admin:leads_leadcycle_change", args=[c.pk]), str(c)) for c in obj.cycles.select_related("contact")]
        if obj.opportunity_id:
            links.append((reverse("admin:meetings_opportunity_change", args=[obj.opportunity_id]), f"Opportunity: {obj.opportunity}"))
        if obj.meeting_id:
            links.append((reverse("admin:meetings_meeting_change", args=[obj.meeting_id]), f"Meeting: {obj.meeting}"))
        if obj.account_id:
            links.append((reverse("admin:workspace_account_record", args=[obj.account_id]), f"Account: {obj.account}"))
        if not links:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', links))


@admin.register(QualificationCriterion)
class QualificationCriterionAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "required", "active", "position"]
    list_editable = ["required", "active", "position"]
    prepopulated_fields = {"code": ["label"]}
