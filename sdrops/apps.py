from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class SdropsAdminConfig(AdminConfig):
    default_site = "sdrops.admin_site.SdropsAdminSite"


def _sync_schedules(sender, using="default", **kwargs):
    from django.db import connections

    from sdrops.schedules import schedules_sync

    # Migrating backwards can leave the table out; there is nothing to sync then.
    if "django_q_schedule" not in connections[using].introspection.table_names():
        return
    schedules_sync()


class SdropsConfig(AppConfig):
    """The project's own app: the schedule registry's sync, the singleton-settings base,
    and the project-level management commands."""

    name = "sdrops"
    label = "sdrops"
    verbose_name = "sdrops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # After every migrate, and after a transactional test's closing flush (which empties
        # the Schedule table and emits post_migrate), the declared schedules are there.
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="sdrops-schedules-sync")
