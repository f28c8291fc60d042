"""Market segments for the demo organisation: classify every account by the starter rules,
one override with its reason, and a targeted play ops can run from the distribution page."""

from __future__ import annotations

from apps.accounts.models import Account
from apps.markets.models import AccountMarket, TargetedPlay
from apps.markets.services import account_market_override, market_segments_classify


def markets_demo_create(*, actor=None) -> dict[str, int]:
    """Run after scoring (the rules read ICP fit). Idempotent: a second call classifies
    nothing new and finds the play by name."""
    result = market_segments_classify(actor=actor)
    # A C account ops decided to work anyway: the override and its reason show on its pages.
    stretch = AccountMarket.objects.filter(segment="C", override_segment="", account__owner__isnull=True).order_by("account_id").first()
    if stretch is not None:
        account_market_override(account_ids=[stretch.account_id], segment="B", actor=actor,
                                reason="Signed a pilot with their parent company: work it as SOM.")
    TargetedPlay.objects.get_or_create(name="Probe C: weak-fit accounts", defaults={
        "purpose": "Can we win accounts whose ICP fit is still weak? Hand a few C accounts out on purpose and compare.",
        "segments": ["C"], "created_by": actor})
    return {"classified": result.moved, "enrolled": Account.objects.filter(market__segment="B").count()}
