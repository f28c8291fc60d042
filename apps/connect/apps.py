from django.apps import AppConfig


class ConnectConfig(AppConfig):
    """Connections to the rest of the sales stack over standard protocols: OpenID Connect
    sign-on, calendar invites and feeds, cadence emails over SMTP, chat alerts. Its scheduled
    jobs are registry Jobs (apps/connect/schedules.py), synced by sdrops' post_migrate."""

    name = "apps.connect"
    label = "connect"
    verbose_name = "Connections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Receivers of the meeting signals (invites), of lead changes and morning digests
        # (chat alerts), of CRM webhook events and outbound event data (CRM ids) and of logged
        # activities (replies, bounces) are connected on import.
        from apps.connect import calendar, chat, crm, email_steps  # noqa: F401
