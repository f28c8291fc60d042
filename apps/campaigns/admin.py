from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q

from apps.campaigns.models import (
    Campaign,
    CampaignInteraction,
    NurtureEntry,
    NurtureProgram,
    NurtureReasonProgram,
    OfferSlaPolicy,
)
from apps.campaigns.selectors import campaign_interactions_visible_to, nurture_entries_visible_to
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin


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
            from apps.people.models import DispositionReason

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
