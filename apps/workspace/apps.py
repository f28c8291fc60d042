from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The workspace people live in: each role's home, navigation by job, the header search,
    record pages and the viewer's own time zone. Reads only: every number comes from the
    owning app's selectors and every visibility rule from its *_visible_to querysets."""

    name = "apps.workspace"
    label = "workspace"
    verbose_name = "Workspace"
