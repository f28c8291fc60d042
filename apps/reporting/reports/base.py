"""The report registry, the page order and the Report interface every page implements."""


from __future__ import annotations

from django import forms

from apps.reporting.tables import Result

REPORTS: dict[str, Report] = {}
# How the Reports block lists them: the weekly review's order (seed 000), planning last.
ORDER = ("team-dashboard", "lead-response", "activity", "territory", "icp-coverage", "account-coverage", "meetings",
         "conversion", "cadences", "returns", "exceptions", "balance", "scorecard", "attainment", "fairness", "market-segments", "capacity")


def reports_in_order() -> list[Report]:
    rank = {slug: i for i, slug in enumerate(ORDER)}
    return sorted(REPORTS.values(), key=lambda r: rank.get(r.slug, len(ORDER)))


def register(cls):
    REPORTS[cls.slug] = cls()
    return cls


class Report:
    slug = ""
    title = ""
    description = ""
    filters: tuple[str, ...] = ("date", "team", "rep", "segment", "lead_type")
    # Rep-based pages read the segment filter as the rep's segment; account pages as the account's.
    segment_filters_reps = True
    params_form: type[forms.Form] | None = None

    @property
    def uses_dates(self) -> bool:
        return "date" in self.filters

    def compute(self, *, scope, params) -> Result:  # pragma: no cover - interface
        raise NotImplementedError


def pct_text(value) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"
