from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.integrations import receivers  # noqa: F401 (connects the outbox writers)
        from apps.integrations.outbox import outbox_write
        from apps.people.services import in_transaction_on_lead_change

        # Lead assignments and SLA breaches: people's callback list (becomes a signal with
        # the lead-lifecycle move to apps/leads).
        in_transaction_on_lead_change(outbox_write)
