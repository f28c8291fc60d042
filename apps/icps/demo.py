"""Demo ICPs and signals for seed_demo: `icps_demo_create(rng=random.Random(seed))` after the
accounts exist. Idempotent for the ICPs (by name); signals are added per run."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.icps.models import ICP, Rule, Signal, SignalType
from apps.icps.services import accounts_rescore

C = Rule.Condition


def _rules(types: dict[str, SignalType]) -> dict[str, list[dict]]:
    return {
        "Mid-Market & Enterprise SaaS": [
            {"category": "qualifier", "condition": C.SEGMENT_IN, "values": ["mid_market", "enterprise"]},
            {"category": "fit", "condition": C.INDUSTRY_IN, "values": ["Software", "Financial Services"], "points": 15},
            {"category": "fit", "condition": C.EMPLOYEES_BETWEEN, "minimum": 200, "maximum": 10000, "points": 8},
            {"category": "fit", "condition": C.TECHNOLOGY_PRESENT, "values": ["Marketo"], "points": 3},
            {"category": "fit", "condition": C.TECHNOLOGY_PRESENT, "values": ["Eloqua"], "points": 1},
            {"category": "fit", "condition": C.TECHNOLOGY_PRESENT, "values": ["Salesforce"], "points": 8},
            {"category": "fit", "condition": C.REGION_IN, "values": ["NA", "EMEA"], "points": 6},
            {"category": "opportunity", "condition": C.SIGNAL_COUNT, "signal_type": types["funding_round"], "minimum": 1, "days": 180, "points": 15},
            {"category": "opportunity", "condition": C.SIGNAL_COUNT, "signal_type": types["new_executive"], "minimum": 1, "days": 120, "points": 10},
            {"category": "opportunity", "condition": C.SIGNAL_COUNT, "signal_type": types["hiring_surge"], "minimum": 1, "days": 90, "points": 5},
            {"category": "readiness", "condition": C.SIGNAL_COUNT, "signal_type": types["demo_request"], "minimum": 1, "days": 30, "points": 15},
            {"category": "readiness", "condition": C.SIGNAL_COUNT, "signal_type": types["pricing_page_visit"], "minimum": 3, "days": 7, "points": 10},
            {"category": "readiness", "condition": C.SIGNAL_DATE_UPCOMING, "signal_type": types["competitor_renewal_date"], "days": 90, "points": 10},
            {"category": "readiness", "condition": C.SIGNAL_DATE_REACHED, "signal_type": types["get_back_to_me_date"], "days": 30, "points": 8},
            {"category": "readiness", "condition": C.SIGNAL_VALUE_AT_LEAST, "signal_type": types["marketing_score"], "minimum": 60, "points": 7},
        ],
        "SMB growth": [
            {"category": "qualifier", "condition": C.SEGMENT_IN, "values": ["smb"]},
            # Points that let a well-fitting SMB with fresh intent reach tier A (70+), as the
            # Mid-Market ICP can: an ICP whose maximum sits below tier A shows only B and C.
            {"category": "fit", "condition": C.INDUSTRY_NOT_IN, "values": ["Government", "Energy"], "points": 12},
            {"category": "fit", "condition": C.EMPLOYEES_BETWEEN, "minimum": 20, "maximum": 500, "points": 12},
            {"category": "fit", "condition": C.TECHNOLOGY_PRESENT, "values": ["HubSpot", "Pardot"], "points": 10},
            {"category": "opportunity", "condition": C.SIGNAL_COUNT, "signal_type": types["hiring_surge"], "minimum": 1, "days": 90, "points": 15},
            {"category": "opportunity", "condition": C.SIGNAL_COUNT, "signal_type": types["funding_round"], "minimum": 1, "days": 180, "points": 10},
            {"category": "readiness", "condition": C.SIGNAL_COUNT, "signal_type": types["demo_request"], "minimum": 1, "days": 30, "points": 20},
            {"category": "readiness", "condition": C.SIGNAL_COUNT, "signal_type": types["pricing_page_visit"], "minimum": 3, "days": 7, "points": 10},
            {"category": "readiness", "condition": C.SIGNAL_COUNT, "signal_type": types["webinar"], "minimum": 1, "days": 60, "points": 6},
        ],
    }


def icps_demo_create(*, rng: random.Random, now: dt.datetime | None = None, signal_share: float = 0.45,
                     hot_share: float = 0.12) -> int:
    """Create the demo ICPs (if missing), give a share of accounts a few signals and a smaller
    share the fresh intent of an account in market (demo request, pricing visits, hiring,
    funding), rescore all: a tier mix a team recognises (roughly 1 in 10 in A, a third in B).
    Returns the number of signals created."""
    now = now or timezone.now()
    types = {t.key: t for t in SignalType.objects.all()}
    with transaction.atomic():
        for name, rules in _rules(types).items():
            icp, created = ICP.objects.get_or_create(name=name, defaults={"description": "Demo ICP"})
            if created:
                Rule.objects.bulk_create(
                    [
                        Rule(icp=icp, position=i, points=r.get("points", 0), category=r["category"], condition=r["condition"],
                             values=r.get("values", []), signal_type=r.get("signal_type"), days=r.get("days"),
                             minimum=None if r.get("minimum") is None else Decimal(r["minimum"]),
                             maximum=None if r.get("maximum") is None else Decimal(r["maximum"]))
                        for i, r in enumerate(rules)
                    ]
                )
        event_keys = ["demo_request", "pricing_page_visit", "pricing_page_visit", "webinar", "funding_round",
                      "new_executive", "hiring_surge", "product_tour"]
        signals = []
        for account_id in Account.objects.order_by("pk").values_list("pk", flat=True):
            if rng.random() < hot_share:
                for key, days in (("demo_request", 20), ("pricing_page_visit", 5), ("pricing_page_visit", 5),
                                  ("pricing_page_visit", 5), ("hiring_surge", 60), ("funding_round", 150),
                                  ("new_executive", 90)):
                    if key in ("funding_round", "new_executive") and rng.random() < 0.4:
                        continue
                    signals.append(Signal(account_id=account_id, type=types[key], source="demo",
                                          occurred_at=now - dt.timedelta(days=rng.uniform(0, days))))
                continue
            if rng.random() > signal_share:
                continue
            for _ in range(rng.randint(1, 5)):
                key = rng.choice([*event_keys, "marketing_score", "competitor_renewal_date", "get_back_to_me_date"])
                occurred = now - dt.timedelta(days=rng.uniform(0, 60))
                value = Decimal(rng.randint(20, 95)) if key == "marketing_score" else None
                date = (now + dt.timedelta(days=rng.randint(-20, 150))).date() if types[key].kind == "dated" else None
                signals.append(Signal(account_id=account_id, type=types[key], occurred_at=occurred, value=value,
                                      date=date, source="demo"))
        Signal.objects.bulk_create(signals, batch_size=5000, ignore_conflicts=True)
        accounts_rescore(now=now)
    return len(signals)
