"""Default reference data of the lead lifecycle, created idempotently (by migration 0005, and
by tests after a transactional test's flush has emptied the tables)."""

from __future__ import annotations

NURTURE = [
    ("budget_6_months", "Budget not available for 6+ months"),
    ("missing_feature", "Product missing key feature for use case"),
    ("re_evaluating", "Re-evaluating internal processes"),
    ("competitor_contract", "Under contract with a competitor"),
    ("no_response", "No response (end of cadence)"),
    ("rep_abandoned", "Rep-abandoned"),
    ("auto_abandoned", "Auto-abandoned"),
    # The meetings flow abandons a lead to nurture after 2 further no-shows.
    ("no_show_limit", "No-show limit reached"),
]
UNQUALIFIED = [
    ("not_a_prospect", "Not a prospect (student, job seeker)"),
    ("incompatible_systems", "Incompatible systems/solutions"),
    ("left_organisation", "No longer at organisation"),
    ("duplicate", "Duplicate"),
]
# Only the reasons the system sets itself keep a code; ops may rename or retire the rest.
SYSTEM_CODES = {"no_response", "auto_abandoned", "no_show_limit"}


def lifecycle_defaults_ensure(apps=None) -> None:
    from django.apps import apps as global_apps

    apps = apps or global_apps
    Reason = apps.get_model("people", "DispositionReason")
    SlaPolicy = apps.get_model("people", "SlaPolicy")
    Settings = apps.get_model("people", "LifecycleSettings")
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
