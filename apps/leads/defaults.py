"""Default reference data of the lead lifecycle, created idempotently (by migration people
0005, by the post_migrate handler in apps.leads.apps, and after a transactional test's flush
has emptied the tables)."""

from __future__ import annotations

NURTURE = [
    ("budget_6_months", "Budget not available for 6+ months"),
    ("missing_feature", "Product missing key feature for use case"),
    ("re_evaluating", "Re-evaluating internal processes"),
    ("competitor_contract", "Under contract with a competitor"),
    ("no_response", "No response (end of cadence)"),
    ("rep_abandoned", "Rep-abandoned"),
    ("auto_abandoned", "Auto-abandoned"),
    # The meetings flow abandons a lead to nurture after 2 further no-shows (issue 7).
    ("no_show_limit", "No-show limit reached"),
]
UNQUALIFIED = [
    ("not_a_prospect", "Not a prospect (student, job seeker)"),
    ("incompatible_systems", "Incompatible systems/solutions"),
    ("left_organisation", "No longer at organisation"),
    ("duplicate", "Duplicate"),
]
# Why a lead cycle is taken out of the numbers (issue 22): seeded once, into an empty list.
EXCEPTION_REASONS = [
    ("New market handled by hand", "A market or segment the process does not cover yet; worked outside the SLA and cadences."),
    ("Test or internal lead", "Someone from the company, a partner or a test submission."),
    ("Routing or data fault", "The lead reached the wrong rep or queue because of a system or data error."),
    ("Event follow-up list", "Leads from an event worked as one list by agreement, outside the normal response rules."),
]
# Only the reasons the system sets itself keep a code; ops may rename or retire the rest.
SYSTEM_CODES = {"no_response", "auto_abandoned", "no_show_limit"}


def lifecycle_defaults_ensure(apps=None) -> None:
    from django.apps import apps as global_apps

    apps = apps or global_apps
    # People migration 0005 runs this with a historical registry where the models still
    # belong to "people" (they moved to "leads" in leads 0001 / people 0008).
    label = "leads" if "leads" in apps.app_configs and _has_model(apps, "leads", "DispositionReason") else "people"
    Reason = apps.get_model(label, "DispositionReason")
    SlaPolicy = apps.get_model(label, "SlaPolicy")
    Settings = apps.get_model(label, "LifecycleSettings")
    for disposition, rows in (("nurture", NURTURE), ("unqualified", UNQUALIFIED)):
        for position, (code, label) in enumerate(rows):
            if code in SYSTEM_CODES and Reason.objects.filter(code=code).exists():
                continue
            Reason.objects.get_or_create(
                disposition=disposition,
                label=label,
                defaults={"code": code if code in SYSTEM_CODES else "", "position": position},
            )
    # Inbound only: response time measures raised hands; outbound leads have no SLA clock.
    if not SlaPolicy.objects.filter(lead_type="inbound", source="").exists():
        SlaPolicy.objects.get_or_create(
            name="Inbound leads",
            defaults={"lead_type": "inbound", "source": "", "target_minutes": 120, "maximum_minutes": 1440},
        )
    Settings.objects.get_or_create(pk=1)
    if _has_model(apps, "leads", "ExceptionReason") and _has_table("leads_exceptionreason"):
        ExceptionReason = apps.get_model("leads", "ExceptionReason")
        if not ExceptionReason.objects.exists():
            ExceptionReason.objects.bulk_create(
                ExceptionReason(label=label, description=description, position=i)
                for i, (label, description) in enumerate(EXCEPTION_REASONS)
            )


def _has_model(apps, label: str, name: str) -> bool:
    try:
        apps.get_model(label, name)
    except LookupError:
        return False
    return True


def _has_table(name: str) -> bool:
    # Migrating backwards past leads 0003 leaves the model in the registry but not the table.
    from django.db import connection

    return name in connection.introspection.table_names()
