from django.apps import AppConfig


class ConnectConfig(AppConfig):
    """Connections to the rest of the sales stack over standard protocols: OpenID Connect
    sign-on, calendar invites and feeds, cadence emails over SMTP, chat alerts."""

    name = "apps.connect"
    label = "connect"
    verbose_name = "Connections"
    default_auto_field = "django.db.models.BigAutoField"
