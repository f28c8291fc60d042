"""Campaign reads."""

from __future__ import annotations

from sdrops.access import (  # noqa: F401 (defined in the access module; re-exported for existing callers)
    alarms_visible_to,
    campaign_interactions_visible_to,
    nurture_entries_visible_to,
)
