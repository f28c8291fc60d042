"""What every routing service shares: the domain errors and the skip labels of a routing decision."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from apps.routing import selectors

logger = logging.getLogger(__name__)


SKIP_LABELS = {
    selectors.SKIP_INACTIVE: "inactive",
    selectors.SKIP_OUT_OF_OFFICE: "out of office",
    selectors.SKIP_UNRAMPED: "not ramped yet",
    selectors.SKIP_AT_CAPACITY: "at capacity",
    selectors.SKIP_EXCLUDED: "excluded (e.g. the rep whose SLA lapsed)",
    selectors.SKIP_NOT_POD: "not this account's pod",
    "zero_weight": "routing weight 0",
}


class RoutingError(ValidationError):
    """A routing rule cannot be applied as asked (message is user-facing)."""


class DistributionStale(ValidationError):
    """The pool or the books changed since the preview; preview again."""
