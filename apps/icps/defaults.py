"""Default signal types, research checklist and the nightly rescoring schedule.

`icps_defaults_ensure` is idempotent: migration 0003 calls it, and so can anything that needs
the defaults back (tests after a transactional flush, a restored database)."""

from __future__ import annotations

from apps.icps.schedules import NIGHTLY_SCHEDULE, SCHEDULES
from sdrops.schedules import schedules_sync

__all__ = ["NIGHTLY_SCHEDULE", "icps_defaults_ensure"]  # migration 0003 imports both from here

# key, name, kind, lifetime in days (None = forever)
SIGNAL_TYPES = [
    ("demo_request", "Demo request", "event", 90),
    ("pricing_page_visit", "Pricing page visit", "event", 30),
    ("product_tour", "Product tour", "event", 60),
    ("webinar", "Webinar", "event", 90),
    ("funding_round", "Funding round", "event", 180),
    ("new_executive", "New executive", "event", 180),
    ("hiring_surge", "Hiring surge", "event", 120),
    ("competitor_renewal_date", "Competitor renewal date", "dated", 730),
    ("get_back_to_me_date", "Get back to me date", "dated", 730),
    ("marketing_score", "Marketing score", "numeric", 90),
    ("custom", "Custom", "event", 90),
]

RESEARCH_CATEGORIES = [
    "Company overview",
    "Business initiatives",
    "Technology stack",
    "Org chart and stakeholders",
    "Pain points and triggers",
    "Recent news",
]

def icps_defaults_ensure(apps=None) -> None:
    """Create what is missing; never overwrite what ops edited (lifetimes, names, order).
    The nightly schedule goes through the schedule registry's one sync rule."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    SignalType = apps.get_model("icps", "SignalType")
    for key, name, kind, lifetime in SIGNAL_TYPES:
        SignalType.objects.get_or_create(key=key, defaults={"name": name, "kind": kind, "lifetime_days": lifetime})
    ResearchCategory = apps.get_model("icps", "ResearchCategory")
    if not ResearchCategory.objects.exists():
        for position, name in enumerate(RESEARCH_CATEGORIES):
            ResearchCategory.objects.create(name=name, position=position)
    apps.get_model("icps", "ScoringSettings").objects.get_or_create(pk=1)
    # Decay needs a clock: signals past their lifetime only stop counting when something rescores.
    schedules_sync(jobs=SCHEDULES, Schedule=apps.get_model("django_q", "Schedule"))
