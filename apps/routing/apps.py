from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "apps.routing"
    label = "routing"

    def ready(self):
        from apps.routing import receivers  # noqa: F401 (connects routing's receivers)
