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
from django.db import models

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


class ConfigVersion(models.Model):
    """One row (id 1): the version of the configuration the per-process caches hold
    (sdrops.config_cache). Written only by the triggers of migration 0006."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="configversion_single_row")]
        # Not Django's to manage: a flush (transactional tests) must not truncate the row, or
        # every process would stop caching until the next configuration change. Created by
        # migration 0006; the table stays as it is.
        managed = False

    def __str__(self) -> str:
        return f"configuration version {self.version}"


class ApiThrottle(models.Model):
    """One row per rate-limited subject (an integration, a signed-in user): the GCRA
    "theoretical arrival time" of its next request (sdrops.api.throttling). The table is
    UNLOGGED (migration 0007): counters need no crash safety, and skipping the WAL keeps the
    one statement a request pays cheap."""

    key = models.CharField(max_length=100, primary_key=True)
    tat = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
