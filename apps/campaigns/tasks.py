"""django-q2 tasks over apps.campaigns (thin; every one safe to run twice)."""

from __future__ import annotations

from apps.campaigns.alarms import alarms_raise
from apps.campaigns.nurture import nurture_run


def nurture_run_task() -> dict:
    """Lost deals → nurture, nurtured leads → their programs, due leads → recycled."""
    return nurture_run()


def alarms_raise_task() -> dict:
    """Cherry-picking, SAOs gone dark, IQMs pending SAO: each occurrence raised once."""
    return alarms_raise()
