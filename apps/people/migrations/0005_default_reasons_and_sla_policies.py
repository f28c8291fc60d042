"""Default disposition reasons (the Measurable Lead Model's good reasons, never vague ones),
the default inbound SLA policy (outbound has none: response time
measures raised hands) (2 h target, 24 h maximum, calendar hours) and the settings row."""

from django.db import migrations

NURTURE = [
    ("budget_6_months", "Budget not available for 6+ months"),
    ("missing_feature", "Product missing key feature for use case"),
    ("re_evaluating", "Re-evaluating internal processes"),
    ("competitor_contract", "Under contract with a competitor"),
    ("no_response", "No response (end of cadence)"),
    ("rep_abandoned", "Rep-abandoned"),
    ("auto_abandoned", "Auto-abandoned"),
]
UNQUALIFIED = [
    ("not_a_prospect", "Not a prospect (student, job seeker)"),
    ("incompatible_systems", "Incompatible systems/solutions"),
    ("left_organisation", "No longer at organisation"),
    ("duplicate", "Duplicate"),
]
# Only the reasons the system sets itself keep a code; the rest are free for ops to edit.
SYSTEM_CODES = {"no_response", "auto_abandoned"}


def forwards(apps, schema_editor):
    Reason = apps.get_model("people", "DispositionReason")
    SlaPolicy = apps.get_model("people", "SlaPolicy")
    Settings = apps.get_model("people", "LifecycleSettings")
    for disposition, rows in (("nurture", NURTURE), ("unqualified", UNQUALIFIED)):
        for position, (code, label) in enumerate(rows):
            Reason.objects.get_or_create(
                disposition=disposition,
                label=label,
                defaults={"code": code if code in SYSTEM_CODES else "", "position": position},
            )
    SlaPolicy.objects.get_or_create(
        name="Inbound leads",
        defaults={"lead_type": "inbound", "source": "", "target_minutes": 120, "maximum_minutes": 1440},
    )
    Settings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("people", "0004_lead_lifecycle_sla")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
