"""Secrets at rest (sdrops/secrets.py): encrypted, rotatable, unreadable with a wrong key,
and the chat URLs stored in clear before are encrypted by connect's migration 0006."""

from __future__ import annotations

import importlib

import pytest
from cryptography.fernet import Fernet

from sdrops.secrets import SecretUnreadable, secret_decrypt, secret_encrypt, url_shown

URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


def test_round_trip_hides_the_value_and_rotation_keeps_old_values_readable(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    derived = secret_encrypt(URL)
    assert derived.startswith("fernet:") and "secret" not in derived and secret_decrypt(derived) == URL
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    stored = secret_encrypt(URL)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert secret_decrypt(stored) == URL
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(SecretUnreadable, match="enter it again"):
        secret_decrypt(stored)
    with pytest.raises(SecretUnreadable):
        secret_decrypt(derived)  # made from SECRET_KEY, not from the configured key


def test_what_may_be_shown_is_scheme_and_host():
    assert url_shown(URL) == "https://hooks.slack.com/…"
    assert url_shown("http://127.0.0.1:8765/teams/x?sig=1") == "http://127.0.0.1:8765/…"


@pytest.mark.django_db
def test_migration_encrypts_chat_urls_stored_in_clear_and_leaves_other_webhooks(team):
    from django.apps import apps

    from apps.connect.models import ChatChannel
    from apps.integrations.models import WebhookEndpoint

    chat = WebhookEndpoint.objects.create(name="chat: east", url=URL, event_types=[])
    crm = WebhookEndpoint.objects.create(name="crm", url="https://crm.example.com/hooks/sdrops", event_types=["lead.assigned"])
    ChatChannel.objects.create(name="east", kind="slack", team=team, alerts=["morning_summary"], endpoint=chat)
    migration = importlib.import_module("apps.connect.migrations.0006_chat_urls_encrypted")
    migration.encrypt(apps, None)
    migration.encrypt(apps, None)  # twice: an encrypted one is left alone
    chat.refresh_from_db()
    crm.refresh_from_db()
    assert chat.url == "https://hooks.slack.com/" and chat.target_url() == URL
    assert crm.url == "https://crm.example.com/hooks/sdrops" and crm.url_encrypted == "" and crm.target_url() == crm.url
