"""The report pages: what each shows, how each number is defined, and its chart — one
module per page (base holds the registry and the Report interface).

Each page's `compute(scope=..., params=...)` calls the selectors (a fixed number of
queries) and lays the numbers out as `Table`s; the view renders them and exports them.
Importing this package registers every page.
"""

from apps.reporting.reports import (  # noqa: F401 (each module registers its pages)
    activity,
    attainment,
    balance,
    cadences,
    capacity,
    exceptions,
    fairness,
    icp,
    lead_response,
    markets,
    returns,
    sales,
    scorecard,
    team_dashboard,
    territory,
)
from apps.reporting.reports.base import REPORTS, Report, register, reports_in_order
from apps.reporting.reports.capacity import capacity_plan

__all__ = ["REPORTS", "Report", "capacity_plan", "register", "reports_in_order"]
