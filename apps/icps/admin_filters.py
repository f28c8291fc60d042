"""Account changelist filters: ICP match, tier, quadrant, research completeness."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from apps.icps.models import ICP, Quadrant, ResearchItem
from apps.icps.selectors import research_category_count

NONE = "none"


class MatchedICPFilter(admin.SimpleListFilter):
    title = "ICP"
    parameter_name = "icp"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in ICP.objects.values_list("pk", "name")] + [(NONE, "No ICP match")]

    def queryset(self, request, queryset):
        if self.value() == NONE:
            return queryset.filter(matched_icp__isnull=True)
        if self.value() and self.value().isdigit():
            return queryset.filter(matched_icp_id=int(self.value()))
        return queryset


class TierFilter(admin.SimpleListFilter):
    title = "tier"
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return [("A", "A"), ("B", "B"), ("C", "C"), (NONE, "No tier")]

    def queryset(self, request, queryset):
        if self.value() == NONE:
            return queryset.filter(tier="")
        if self.value() in {"A", "B", "C"}:
            return queryset.filter(tier=self.value())
        return queryset


class QuadrantFilter(admin.SimpleListFilter):
    title = "quadrant"
    parameter_name = "quadrant"

    def lookups(self, request, model_admin):
        return list(Quadrant.choices)

    def queryset(self, request, queryset):
        if self.value() in Quadrant.values:
            return queryset.filter(quadrant=self.value())
        return queryset


class ResearchCompletenessFilter(admin.SimpleListFilter):
    title = "research"
    parameter_name = "research"

    def lookups(self, request, model_admin):
        return [("complete", "Complete"), ("incomplete", "Incomplete")]

    def queryset(self, request, queryset):
        if self.value() not in {"complete", "incomplete"}:
            return queryset
        complete = (
            ResearchItem.objects.filter(category__active=True)
            .values("account_id")
            .annotate(n=Count("category_id", distinct=True))
            .filter(n__gte=research_category_count())
            .values("account_id")
        )
        if self.value() == "complete":
            return queryset.filter(pk__in=complete)
        return queryset.exclude(pk__in=complete)
