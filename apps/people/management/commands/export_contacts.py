from apps.accounts.imports.commands import ExportCommand


class Command(ExportCommand):
    kind = "contacts"
