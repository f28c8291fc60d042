from django.apps import AppConfig


class CadencesConfig(AppConfig):
    name = "apps.cadences"
    label = "cadences"
