"""Admin for market segments: the rules (with "Classify now"), targeted plays, the coverage
settings and the read-only segment history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse

from apps.markets.models import CoverageSettings, MarketSegmentChange, MarketSegmentRule, TargetedPlay
from apps.markets.selectors import rule_describe
from apps.markets.services import market_segments_classify
from sdrops.admin_scoping import ReadOnlyAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin


@admin.register(MarketSegmentRule)
class MarketSegmentRuleAdmin(SettingsHistoryAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/markets/marketsegmentrule/change_list.html"
    list_display = ["position", "name", "segment", "conditions", "active", "note"]
    list_display_links = ["name"]
    list_filter = ["segment", "active"]
    ordering = ["position", "id"]
    fieldsets = [
        (None, {"fields": ["position", "name", "segment", "active", "note"]}),
        ("Firmographics", {"fields": ["statuses", "size_segments", "industries", "countries",
                                      ("employees_min", "employees_max"), ("revenue_min", "revenue_max")]}),
        ("ICP fit and data quality", {"fields": ["icp_fit", "data_quality"]}),
    ]

    @admin.display(description="conditions")
    def conditions(self, obj):
        return rule_describe(obj)

    def get_urls(self):
        return [path("classify/", self.admin_site.admin_view(self.classify_view), name="markets_classify"),
                *super().get_urls()]

    def classify_view(self, request):
        """On demand: the same service the nightly job runs (POST only; ops only)."""
        if not request.user.has_perm("markets.change_marketsegmentrule"):
            raise PermissionDenied
        if request.method == "POST":
            result = market_segments_classify(actor=request.user)
            self.message_user(request, result.message(), messages.SUCCESS)
        return redirect(reverse("admin:markets_marketsegmentrule_changelist"))


@admin.register(TargetedPlay)
class TargetedPlayAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "segments", "active", "created_by", "created_at"]
    list_select_related = ["created_by"]
    autocomplete_fields = ["accounts"]
    readonly_fields = ["created_by", "created_at"]
    fields = ["name", "purpose", "segments", "accounts", "active", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CoverageSettings)
class CoverageSettingsAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, admin.ModelAdmin):

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        super().save_model(request, obj, form, change)


@admin.register(MarketSegmentChange)
class MarketSegmentChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every move of an account's market segment: by which rule, or by whom and why."""

    list_display = ["occurred_at", "account", "from_segment", "to_segment", "source", "rule_name", "actor", "reason"]
    list_select_related = ["account", "actor"]
    list_filter = ["source", "to_segment", "from_segment"]
    search_fields = ["account__name", "account__domain", "reason", "rule_name"]
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False
