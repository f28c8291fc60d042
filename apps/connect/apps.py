from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs):
    from apps.connect.schedules import schedules_ensure

    schedules_ensure()


class ConnectConfig(AppConfig):
    """Connections to the rest of the sales stack over standard protocols: OpenID Connect
    sign-on, calendar invites and feeds, cadence emails over SMTP, chat alerts."""

    name = "apps.connect"
    label = "connect"
    verbose_name = "Connections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Receivers of the meeting signals (invites) and of logged activities (replies,
        # bounces) are registered on import.
        from apps.connect import calendar, chat, email_steps  # noqa: F401
        from apps.leads.events import in_transaction_on_lead_change

        # SLA escalations come through apps.people's in-transaction hook, like the webhooks.
        in_transaction_on_lead_change(chat.on_lead_change)

        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="sdrops-connect-schedules")
