"""Default opportunity stages and the settings row, loaded by a data migration."""

from __future__ import annotations

# (code, name, position, outcome, is_pipeline): the seed's stage 1-5, closed won, closed lost.
STAGES = [
    ("meeting_scheduled", "1 – Meeting scheduled", 1, "open", False),
    ("meeting_completed", "2 – Meeting completed", 2, "open", False),
    ("pipeline", "3 – Pipeline (SAO)", 3, "open", True),
    ("proposal", "4 – Proposal", 4, "open", False),
    ("negotiation", "5 – Negotiation", 5, "open", False),
    ("closed_won", "Closed won", 6, "won", False),
    ("closed_lost", "Closed lost", 7, "lost", False),
]


def meetings_defaults_ensure(apps=None) -> None:
    """Create what is missing; never overwrite names or the pipeline flag ops edited."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    Stage = apps.get_model("meetings", "OpportunityStage")
    Settings = apps.get_model("meetings", "MeetingSettings")
    has_pipeline = Stage.objects.filter(is_pipeline=True).exists()
    for code, name, position, outcome, is_pipeline in STAGES:
        if not Stage.objects.filter(code=code).exists():
            Stage.objects.create(
                code=code, name=name, position=position, outcome=outcome, is_pipeline=is_pipeline and not has_pipeline
            )
    Settings.objects.get_or_create(pk=1)
