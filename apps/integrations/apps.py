from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.accounts.services import in_transaction_on_owner_change
        from apps.integrations.outbox import outbox_write_owner_changes

        # Outbox rows are written inside the ownership transaction, so a notification
        # exists exactly when the change committed.
        in_transaction_on_owner_change(outbox_write_owner_changes)
