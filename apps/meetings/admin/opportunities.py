"""Opportunities in the admin: the deal page (every write through the opportunity services, its
stage history inline) and the stage list ops rename."""

from __future__ import annotations

import copy

from django.contrib import admin

from apps.meetings import services
from apps.meetings.forms import OpportunityAdminForm
from apps.meetings.models import Opportunity, OpportunityEvent, OpportunityStage
from apps.people.models import Rep
from sdrops.access import accounts_visible_to, opportunities_visible_to, reps_visible_to
from sdrops.admin_changelist import QuickChangelistMixin
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedForeignKeyMixin


class OpportunityEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OpportunityEvent
    verbose_name = "stage change"
    verbose_name_plural = "Stage history"
    extra = 0
    fields = ["occurred_at", "kind", "from_stage", "to_stage", "from_owner", "to_owner", "actor", "note"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]

    def has_view_permission(self, request, obj=None):
        return True  # whoever may see the opportunity sees its history


@admin.register(Opportunity)
class OpportunityAdmin(QuickChangelistMixin, ScopedAdminMixin, ScopedForeignKeyMixin, admin.ModelAdmin):
    scope_selector = opportunities_visible_to
    # merged_into: the parent deal must be one the user sees (a hidden one is "not a valid choice").
    scoped_foreign_keys = {"account": accounts_visible_to, "merged_into": opportunities_visible_to}
    form = OpportunityAdminForm
    inlines = [OpportunityEventInline]
    list_display = ["name", "account", "stage", "amount", "close_date", "owner", "sourcing_sdr", "is_open", "created_at"]
    list_select_related = ["account", "stage", "owner", "sourcing_sdr"]
    list_filter = ["is_open", "stage", "closed_lost_reason"]
    search_fields = ["name", "account__name", "account__domain"]
    autocomplete_fields = ["account", "merged_into"]
    readonly_fields = ["sourcing_sdr", "source_meeting", "is_open", "pipeline_at", "closed_at", "created_at", "created_by"]
    fieldsets = [
        (None, {"fields": ["name", "account", "owner", "stage", "amount", "close_date"]}),
        ("Closing", {"fields": ["cs_owner", "closed_lost_reason", "merged_into", "closed_lost_details"]}),
        ("Attribution", {"fields": ["sourcing_sdr", "source_meeting", "created_by", "created_at", "pipeline_at",
                                    "closed_at", "is_open"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("account")
            if not obj.is_open:
                fields += ["stage", "owner", "closed_lost_reason", "merged_into"]
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            # Hand a deal only to an AE (or manager) the user sees: an AE keeps it, a manager
            # hands it within their teams, ops to anyone.
            kwargs["queryset"] = reps_visible_to(user=request.user).filter(
                role__in=[Rep.Role.AE, Rep.Role.MANAGER], active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "cs_owner" in form.base_fields:
            # A copy: the declared field is shared by every form class built from the form.
            field = copy.deepcopy(form.base_fields["cs_owner"])
            field.queryset = reps_visible_to(user=request.user).filter(active=True)
            form.base_fields["cs_owner"] = field
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.opportunity_create(
                account=data["account"], owner=data["owner"], actor=request.user, stage=data["stage"],
                name=data["name"], amount=data.get("amount"), close_date=data.get("close_date"),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        stored = Opportunity.objects.get(pk=obj.pk)
        if "owner" in data and data["owner"].pk != stored.owner_id:
            services.opportunity_handover(opportunity=stored, to_owner=data["owner"], actor=request.user)
        services.opportunity_update(
            opportunity=stored, actor=request.user, name=data["name"], amount=data.get("amount"),
            close_date=data.get("close_date"), closed_lost_details=data.get("closed_lost_details", ""),
        )
        if "stage" in data and data["stage"].pk != stored.stage_id:
            services.opportunity_stage_set(
                opportunity=stored, stage=data["stage"], actor=request.user,
                closed_lost_reason=data.get("closed_lost_reason") or "", merged_into=data.get("merged_into"),
                closed_lost_details=data.get("closed_lost_details", ""), cs_owner=data.get("cs_owner"),
            )
        obj.refresh_from_db()


@admin.register(OpportunityStage)
class OpportunityStageAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "code", "outcome", "is_pipeline"]
    list_display_links = ["name"]
    fields = ["name", "code", "position", "outcome", "is_pipeline"]
    readonly_fields = ["code", "position", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.opportunity_stage_update(stage=obj, name=obj.name, is_pipeline=obj.is_pipeline, actor=request.user)
