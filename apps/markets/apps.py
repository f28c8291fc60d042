from django.apps import AppConfig


class MarketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.markets"
    verbose_name = "Markets and account health"
