from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_role_groups(sender, using="default", **kwargs):
    from apps.people.roles import sync_role_groups

    sync_role_groups()


class PeopleConfig(AppConfig):
    name = "apps.people"
    label = "people"

    def ready(self):
        # Like Django's own create_permissions: after every migrate (and after the test
        # runner's flush of a transactional test, which empties auth_group), the role groups
        # exist and carry the permissions of every installed app, including apps added later.
        post_migrate.connect(_sync_role_groups, sender=self, dispatch_uid="sdrops-sync-role-groups")
