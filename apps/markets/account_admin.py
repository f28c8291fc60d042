"""Pieces for the account admin (apps/accounts/admin.py): market segment and coverage-quadrant
filters, the segment with its reason on the change page, and the override action.

    class AccountAdmin(AccountMarketAdminMixin, ..., admin.ModelAdmin):
        list_filter = [..., *ACCOUNT_MARKET_FILTERS]
        readonly_fields = [..., *ACCOUNT_MARKET_READONLY]
        actions = [..., "override_market_segment", "export_market_coverage"]
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from apps.accounts.csv_safety import csv_writer
from apps.markets.coverage import CoverageQuadrant, market_coverage_export_rows, with_coverage
from apps.markets.models import ENROLLED, AccountMarket, MarketSegment
from apps.markets.selectors import account_market_explain
from apps.markets.services import account_market_override


class MarketSegmentFilter(admin.SimpleListFilter):
    title = "market segment (A–G)"
    parameter_name = "market_segment"

    def lookups(self, request, model_admin):
        return [("enrolled", "Enrolled (B)"), *MarketSegment.choices, ("none", "Unclassified")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "enrolled":
            return queryset.filter(pk__in=AccountMarket.objects.filter(segment__in=ENROLLED).values("account_id"))
        if value == "none":
            return queryset.exclude(pk__in=AccountMarket.objects.exclude(segment="").values("account_id"))
        if value in MarketSegment.values:
            return queryset.filter(pk__in=AccountMarket.objects.filter(segment=value).values("account_id"))
        return queryset


class CoverageQuadrantFilter(admin.SimpleListFilter):
    """Coverage × engagement (seed 004) — not the ICP quadrant (fit × timing) next to it."""

    title = "coverage × engagement"
    parameter_name = "coverage_quadrant"

    def lookups(self, request, model_admin):
        return CoverageQuadrant.choices

    def queryset(self, request, queryset):
        if self.value() in CoverageQuadrant.values:
            ids = with_coverage(queryset.order_by()).filter(coverage_quadrant=self.value()).values("pk")
            return queryset.filter(pk__in=ids)
        return queryset


ACCOUNT_MARKET_FILTERS = [MarketSegmentFilter, CoverageQuadrantFilter]
ACCOUNT_MARKET_READONLY = ["market_segment"]


class MarketOverrideForm(forms.Form):
    segment = forms.ChoiceField(choices=[("", "Remove the override (back to the rules)"), *MarketSegment.choices],
                                required=False, label="Market segment")
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required: shown with the segment wherever it is read.")


class AccountMarketAdminMixin:
    @admin.display(description="Market segment")
    def market_segment(self, obj):
        if not obj.pk:
            return "—"
        explained = account_market_explain(account=obj)
        market = explained["market"]
        if market is None or not market.segment:
            now = explained["now_rule"]
            return format_html("Unclassified (not enrolled){}", f" — the rules would say {now.segment} ({now.name}) at the next run"
                               if now else " — no rule matches")
        if market.override_segment:
            why = format_html("manual override by {} on {}: “{}” (the rules say {})", market.override_by or "—",
                              market.override_at.strftime("%Y-%m-%d") if market.override_at else "—", market.override_reason,
                              market.rule_segment or "nothing")
        else:
            why = format_html("rule “{}”", market.rule.name if market.rule else "—")
        return format_html("<strong>{}</strong> · {} · {}", market.get_segment_display(),
                           "enrolled" if market.enrolled else "not enrolled", why)

    @admin.action(description="Set or remove the market segment override…", permissions=["override_market"])
    def override_market_segment(self, request, queryset):
        form = MarketOverrideForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                changed = account_market_override(
                    account_ids=list(queryset.values_list("pk", flat=True)), segment=form.cleaned_data["segment"],
                    reason=form.cleaned_data["reason"], actor=request.user,
                )
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
                return None
            self.message_user(request, f"Market segment override recorded for {changed} account(s).", messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/markets/override.html", {
            **self.admin_site.each_context(request), "title": "Override the market segment", "opts": self.model._meta,
            "form": form, "accounts": queryset[:200], "count": queryset.count(),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME), "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })

    @admin.action(description="Export market segment and coverage × engagement (CSV)", permissions=["view"])
    def export_market_coverage(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="accounts-market-coverage-{timezone.localdate()}.csv"'
        csv_writer(response).writerows(market_coverage_export_rows(queryset))
        return response

    def has_override_market_permission(self, request):
        return request.user.has_perm("markets.change_accountmarket")
