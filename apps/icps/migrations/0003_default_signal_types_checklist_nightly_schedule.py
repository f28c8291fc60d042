from django.db import migrations

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

NIGHTLY = "icps: nightly rescore"


def forwards(apps, schema_editor):
    SignalType = apps.get_model("icps", "SignalType")
    for key, name, kind, lifetime in SIGNAL_TYPES:
        SignalType.objects.get_or_create(key=key, defaults={"name": name, "kind": kind, "lifetime_days": lifetime})
    ResearchCategory = apps.get_model("icps", "ResearchCategory")
    for position, name in enumerate(RESEARCH_CATEGORIES):
        ResearchCategory.objects.get_or_create(name=name, defaults={"position": position})
    apps.get_model("icps", "ScoringSettings").objects.get_or_create(pk=1)
    # Decay needs a clock: signals past their lifetime only stop counting when something rescores.
    Schedule = apps.get_model("django_q", "Schedule")
    from croniter import croniter
    from django.utils import timezone

    cron = "15 2 * * *"
    next_run = croniter(cron, timezone.now()).get_next(type(timezone.now()))
    Schedule.objects.update_or_create(
        name=NIGHTLY,
        defaults={
            "func": "apps.icps.tasks.rescore_all_accounts",
            "args": "'nightly'",
            "schedule_type": "C",
            "cron": cron,
            "next_run": next_run,
            "repeats": -1,
        },
    )
    from apps.people.roles import sync_role_groups

    sync_role_groups(apps)


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NIGHTLY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("icps", "0002_scoring_rules_signals_research"),
        ("people", "0002_role_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
