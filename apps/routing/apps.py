from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "apps.routing"
    label = "routing"

    def ready(self):
        from apps.icps.services import on_signals_recorded
        from apps.routing.services import signalled_accounts_route_later

        # "Signals: accounts with new timing signals are routed continuously to reps with
        # capacity" — a pool account a signal puts in the Good Place goes to a rep at once.
        on_signals_recorded(signalled_accounts_route_later)
