"""The sdrops app's models: the change history of every settings model, through
django-pghistory (this app is last in INSTALLED_APPS, so the tracked models are loaded).

Each tracked model gets an event model in the sdrops app (`<Model>Event`, table
`sdrops_<model>event`) whose rows a database trigger writes on every insert and update:
the full row after the change, `pgh_label` ("insert" / "update") and `pgh_created_at`.
Triggers see every write — the admin, a service, `QuerySet.update()`, raw SQL — so no
code path can change a setting without a trace. Who made a change is recorded where the
change came through `pghistory.context(user=...)` (the settings admin pages do this).

The event rows do not point at the tracked row with a foreign key (`obj_field=None`; the
copied `id` names it): history stays readable when a settings model moves between apps.
The domain event tables (ownership, lead cycle, opportunity events) are not these: they
are the product's own records and stay as they are.
"""

from __future__ import annotations

import pghistory

from apps.campaigns.models import AlarmSettings
from apps.icps.models import ScoringSettings
from apps.leads.models import LifecycleSettings, SlaPolicy
from apps.markets.models import CoverageSettings, MarketSegmentRule
from apps.meetings.models import MeetingSettings
from apps.reporting.models import FunnelTargets
from apps.routing.models import RulesOfEngagement

TRACKED = [
    ScoringSettings, FunnelTargets, RulesOfEngagement, MeetingSettings, LifecycleSettings, AlarmSettings, SlaPolicy,
    # Market segment rules are tracked like settings: ops edit them and every edit is kept.
    CoverageSettings, MarketSegmentRule,
]

EVENT_MODELS = {
    model: pghistory.create_event_model(
        model, pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
        obj_field=None, app_label="sdrops", model_name=f"{model.__name__}Event", abstract=False,
    )
    for model in TRACKED
}
