from apps.accounts.imports.commands import ImportCommand


class Command(ImportCommand):
    kind = "reps"
