from django.core.management.base import BaseCommand, CommandError

from apps.people.privacy import contact_forget


class Command(BaseCommand):
    help = "Erase a contact's personal data on request, keeping the anonymous counts reports need."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--note", default="", help="Reference of the request (ticket number, date received).")

    def handle(self, *args, **options):
        request = contact_forget(email=options["email"], note=options["note"])
        if not request.found:
            raise CommandError(f"No contact with the address {options['email']!r}; the request was logged (id {request.pk}).")
        self.stdout.write(self.style.SUCCESS(
            f"Erased contact {request.contact_id}: {request.records_erased} record(s) wiped; request logged (id {request.pk})."
        ))
