from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_reference_data(sender, using="default", **kwargs):
    from django.db import connections

    from apps.cadences.defaults import cadences_defaults_ensure

    # Migrating backwards can leave the tables out; there is nothing to ensure then.
    tables = set(connections[using].introspection.table_names())
    if not {"cadences_cadence"} <= tables:
        return
    cadences_defaults_ensure()


class CadencesConfig(AppConfig):
    name = "apps.cadences"
    label = "cadences"

    def ready(self):
        # The data migrations made these rows; a transactional test's closing flush empties
        # every table and emits post_migrate, so they are put back the same way the role
        # groups are (apps.people.apps), idempotently.
        post_migrate.connect(_ensure_reference_data, sender=self, dispatch_uid="sdrops-cadences-reference-data")
        from apps.cadences import receivers  # noqa: F401 (follow-up tasks move with their account)
