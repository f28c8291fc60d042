from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_reference_data(sender, using="default", **kwargs):
    from django.db import connections

    from apps.leads.defaults import lifecycle_defaults_ensure
    from apps.leads.schedules import schedules_sync

    # Migrating backwards can leave the tables out; there is nothing to ensure then.
    tables = set(connections[using].introspection.table_names())
    if not {"people_dispositionreason", "people_slapolicy", "django_q_schedule"} <= tables:
        return
    lifecycle_defaults_ensure()
    schedules_sync()


class LeadsConfig(AppConfig):
    name = "apps.leads"
    label = "leads"
    verbose_name = "Lead lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The data migrations made these rows; a transactional test's closing flush empties
        # every table and emits post_migrate, so they are put back the same way the role
        # groups are (apps.people.apps), idempotently.
        post_migrate.connect(_ensure_reference_data, sender=self, dispatch_uid="sdrops-lifecycle-reference-data")
