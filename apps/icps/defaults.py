"""Default signal types, research checklist and the nightly rescoring schedule.

`icps_defaults_ensure` is idempotent: migration 0003 calls it, and so can anything that needs
the defaults back (tests after a transactional flush, a restored database)."""

from __future__ import annotations

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

NIGHTLY_SCHEDULE = "icps: nightly rescore"
NIGHTLY_CRON = "15 2 * * *"


def icps_defaults_ensure(apps=None) -> None:
    """Create what is missing; never overwrite what ops edited (lifetimes, names, order).
    The nightly schedule is upserted by name so its function and cron stay as declared here."""
    from croniter import croniter
    from django.apps import apps as global_apps
    from django.utils import timezone

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
    Schedule = apps.get_model("django_q", "Schedule")
    schedule = Schedule.objects.filter(name=NIGHTLY_SCHEDULE).first()
    fields = {
        "func": "apps.icps.tasks.rescore_all_accounts", "args": "'nightly'", "schedule_type": "C",
        "cron": NIGHTLY_CRON, "repeats": -1,
    }
    if schedule is None:
        now = timezone.now()
        Schedule.objects.create(name=NIGHTLY_SCHEDULE, next_run=croniter(NIGHTLY_CRON, now).get_next(type(now)), **fields)
    else:
        Schedule.objects.filter(pk=schedule.pk).update(**fields)
