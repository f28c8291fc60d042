"""The two default cadences of the Measurable Lead Model, created idempotently (migration
0002, the demo, and tests after a transactional test's flush)."""

from __future__ import annotations

HIGH_TOUCH_INBOUND = [
    (0, "call", "Call within the response target; leave a voicemail referencing their request."),
    (0, "email", "Personal reply to their request with two meeting times."),
    (1, "call", "Second call attempt, different time of day."),
    (3, "email", "Share one resource relevant to what they asked about."),
    (6, "call", "Last call; then a short break-up email if no answer."),
]
_OUT_DAYS = [0, 0, 1, 2, 4, 5, 7, 8, 9, 11, 12, 14, 15, 16, 18, 19, 21, 23, 25, 27, 29]
_OUT_CHANNELS = ["email", "call", "social", "call", "email", "call", "social", "email", "call", "email",
                 "call", "physical", "call", "email", "social", "call", "email", "call", "social", "call", "email"]
OUTBOUND_TARGET_ACCOUNT = [
    (day, channel, f"Touch {n} of 21 — {channel} to the target account's buying team.")
    for n, (day, channel) in enumerate(zip(_OUT_DAYS, _OUT_CHANNELS, strict=True), start=1)
]




def cadences_defaults_ensure(apps=None) -> None:
    from django.apps import apps as global_apps

    apps = apps or global_apps
    Cadence = apps.get_model("cadences", "Cadence")
    CadenceStep = apps.get_model("cadences", "CadenceStep")
    for name, lead_type, steps, description in (
        ("High-touch inbound", "inbound", HIGH_TOUCH_INBOUND, "5 touches in 7 days after a demo request."),
        ("Outbound target account", "target_account", OUTBOUND_TARGET_ACCOUNT, "21 touches in 30 days."),
    ):
        cadence, created = Cadence.objects.get_or_create(
            name=name, defaults={"lead_type": lead_type, "description": description}
        )
        if created:
            for position, (day, channel, instructions) in enumerate(steps, start=1):
                CadenceStep.objects.create(
                    cadence=cadence, position=position, day_offset=day, channel=channel, instructions=instructions
                )
