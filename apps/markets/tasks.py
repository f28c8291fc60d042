"""django-q2 tasks for market segments: thin wrappers over apps.markets.services.

Safe to run twice (at-least-once delivery): the classification only writes rows whose rules'
answer changed, so a second run writes nothing."""

from __future__ import annotations

from apps.markets import services


def market_segments_classify_task() -> int:
    """The nightly classification by rules; returns how many accounts changed segment."""
    return services.market_segments_classify().moved
