"""Routing in the admin, by concern: rules of engagement (every change recorded), routing rules,
decisions and the unmatched-lead queue (rules), the claim-next queue (queue), distribution
preview and commit (distributions), the return/swap review queue with the SDR's return form and
rest periods (returns), and lead intake from the contact admin (intake). Importing the package
imports every module, so every model is registered."""

from apps.routing.admin import common, distributions, intake, queue, returns, rules  # noqa: F401 (registers)
from apps.routing.admin.intake import route_selected_leads
from apps.routing.admin.returns import account_return_url
from apps.routing.intake import lead_intake_message

__all__ = ["account_return_url", "lead_intake_message", "route_selected_leads"]
