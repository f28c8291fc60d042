"""Every write of routing, by concern: the recorded rules of engagement (rules), lead and
account routing (lead_routing), the first-come queue (queue), distributions, retrievals and
rest periods (retrievals), returns and swaps (returns), and merging a duplicate account
(merge). Import from here.

Owner changes always go through apps.accounts.services.account_owners_set (one set-based
call per job, so query counts stay flat), in the same transaction as this app's own rows.
Locks: reps before accounts, each in ascending id order; queues and retrieval skip rows
another transaction holds.
"""

from apps.routing.services.common import (
    SKIP_LABELS,
    DistributionStale,
    RoutingError,
)
from apps.routing.services.credits import (
    credit_grant,
)
from apps.routing.services.distributions import (
    PlanRow,
    distribution_commit,
    distribution_plan,
    distribution_preview,
    distribution_run,
    distribution_transition,
    snake_deal,
)
from apps.routing.services.lead_routing import (
    account_locked_for_routing,
    account_route,
    accounts_route_signalled,
    lead_route,
    lead_unroutable_reason,
    pick_rep,
    routing_decision_retry,
    signalled_accounts_route_later,
)
from apps.routing.services.merge import (
    account_merge,
)
from apps.routing.services.queue import (
    queue_claim_next,
)
from apps.routing.services.retrievals import (
    Retrieved,
    rest_periods_process,
    retrieval_run,
)
from apps.routing.services.returns import (
    DEFAULT_OUTCOME,
    duplicate_refusal,
    reassign_refusal,
    return_approve,
    return_data_fixed,
    return_file,
    return_reject,
    return_request_transition,
    swap_replacement_pick,
)
from apps.routing.services.rules import (
    rules_delete,
    rules_save,
)

__all__ = ["DEFAULT_OUTCOME", "DistributionStale", "PlanRow", "Retrieved", "RoutingError", "SKIP_LABELS", "account_locked_for_routing", "account_merge", "account_route", "accounts_route_signalled", "credit_grant", "distribution_commit", "distribution_plan", "distribution_preview", "distribution_run", "distribution_transition", "duplicate_refusal", "lead_route", "lead_unroutable_reason", "pick_rep", "queue_claim_next", "reassign_refusal", "rest_periods_process", "retrieval_run", "return_approve", "return_data_fixed", "return_file", "return_reject", "return_request_transition", "routing_decision_retry", "rules_delete", "rules_save", "signalled_accounts_route_later", "snake_deal", "swap_replacement_pick"]
