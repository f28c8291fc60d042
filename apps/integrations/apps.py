from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_outbox_schedule(sender, **kwargs):
    from apps.integrations.tasks import outbox_schedule_ensure, prune_schedule_ensure

    outbox_schedule_ensure()
    prune_schedule_ensure()


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
        # The same for lead assignments, SLA breaches and return decisions: each owning
        # service calls its in-transaction hooks with the event's type and data.
        from apps.integrations.outbox import outbox_write
        from apps.leads.events import in_transaction_on_lead_change
        from apps.routing.services import in_transaction_on_return_decided

        in_transaction_on_lead_change(outbox_write)
        in_transaction_on_return_decided(outbox_write)
        from apps.integrations.outbox import outbox_write_meeting_dispositioned
        from apps.meetings.services import on_meeting_dispositioned

        on_meeting_dispositioned(outbox_write_meeting_dispositioned)
        # The sweep schedule also comes back after a flush (transactional tests), like the
        # role groups in apps.people.
        post_migrate.connect(_ensure_outbox_schedule, sender=self, dispatch_uid="sdrops-outbox-schedule")
