from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "apps.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        # Registers the campaign report with apps.reporting's report pages.
        from apps.campaigns import report  # noqa: F401
