from django.apps import AppConfig


class IcpsConfig(AppConfig):
    name = "apps.icps"
    label = "icps"
