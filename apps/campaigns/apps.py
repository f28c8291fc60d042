from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_reference_data(sender, using="default", **kwargs):
    from django.db import connections

    from apps.campaigns.defaults import nurture_defaults_ensure
    from apps.campaigns.schedules import schedules_ensure

    tables = set(connections[using].introspection.table_names())
    if not {"people_dispositionreason", "campaigns_nurtureprogram", "django_q_schedule"} <= tables:
        return
    nurture_defaults_ensure()
    schedules_ensure()


class CampaignsConfig(AppConfig):
    name = "apps.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns and nurture"

    def ready(self):
        # Registers the campaign and nurture reports with apps.reporting's report pages.
        from apps.campaigns import nurture_report, report  # noqa: F401

        # The data migrations made the nurture defaults and the schedule; a transactional
        # test's flush empties them, so they are put back after it (as apps.cadences does).
        post_migrate.connect(_ensure_reference_data, sender=self, dispatch_uid="sdrops-campaigns-reference-data")
