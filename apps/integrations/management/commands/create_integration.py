"""`manage.py create_integration NAME --user USERNAME --scopes read,write_accounts`:
create an API client and print its token once (only its hash is stored)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.integrations.models import Scope
from apps.integrations.services import integration_create
from apps.integrations.signing import standard_secret


class Command(BaseCommand):
    help = "Create an integration (API client) acting as a user, with scopes; prints its token and webhook secret."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--user", required=True,
            help="Username the integration acts as: an SDR's login for their sales engagement tool, an ops "
            "login (or --service-user) for company-wide systems such as the CRM.",
        )
        parser.add_argument(
            "--service-user", action="store_true",
            help="Create --user as a dedicated superuser without a password (no admin login), so the integration "
            "sees every book; its scopes still limit what it may do.",
        )
        parser.add_argument("--scopes", default=Scope.READ, help=f"Comma-separated: {', '.join(Scope.values)}.")
        parser.add_argument("--rate", default="", help="Throttle rate, e.g. 120/min (default: the server default).")

    def handle(self, *args, name, user, service_user, scopes, rate, **options):
        User = get_user_model()
        with transaction.atomic():
            if service_user:
                account, created = User.objects.get_or_create(username=user, defaults={"is_superuser": True})
                if created:
                    account.set_unusable_password()
                    account.save()
            else:
                account = User.objects.filter(username=user).first()
                if account is None:
                    raise CommandError(f"No user “{user}” (use --service-user to create one).")
            try:
                integration, token = integration_create(
                    name=name, user=account, scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                    throttle_rate=rate,
                )
            except ValidationError as error:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))
        self.stdout.write(f"Integration “{integration.name}” (id {integration.pk}) acting as {account.username}, "
                          f"scopes {', '.join(integration.scopes) or 'none'}.")
        self.stdout.write(f"Token (shown once): {token}")
        self.stdout.write(f"Webhook secret (Standard Webhooks): {standard_secret(integration.secret)}")
        self.stdout.write(f"Webhook secret (deprecated X-Sdrops-Signature HMAC key): {integration.secret}")
