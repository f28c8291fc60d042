"""Default nurture reference data, created idempotently (migration campaigns 0002 and tests
after a transactional flush): the system reason a lost deal nurtures with, and programs for
the default nurture reasons (the seed's "abandoned → recycle to outbound after 6 months")."""

from __future__ import annotations

OPPORTUNITY_LOST = ("opportunity_lost", "Opportunity lost")
# program name, days, lead type, the default nurture reason labels it takes
PROGRAMS = [
    ("Recycle to outbound after 6 months", 180, "outbound",
     ["Rep-abandoned", "Auto-abandoned", "No response (end of cadence)", "No-show limit reached",
      "Budget not available for 6+ months"]),
    ("Recycle after a lost deal (90 days)", 90, "outbound", ["Opportunity lost"]),
    ("Revisit in 9 months", 270, "outbound",
     ["Under contract with a competitor", "Re-evaluating internal processes", "Product missing key feature for use case"]),
]


def nurture_defaults_ensure(apps=None) -> None:
    from django.apps import apps as global_apps

    apps = apps or global_apps
    Reason = apps.get_model("leads", "DispositionReason")
    Program = apps.get_model("campaigns", "NurtureProgram")
    Link = apps.get_model("campaigns", "NurtureReasonProgram")
    code, label = OPPORTUNITY_LOST
    if not Reason.objects.filter(code=code).exists():
        Reason.objects.get_or_create(disposition="nurture", label=label, defaults={"code": code, "position": 90})
    for name, days, lead_type, labels in PROGRAMS:
        program, created = Program.objects.get_or_create(
            name=name, defaults={"recycle_after_days": days, "recycle_lead_type": lead_type})
        if not created:
            continue
        for reason in Reason.objects.filter(disposition="nurture", label__in=labels):
            Link.objects.get_or_create(reason=reason, defaults={"program": program})
