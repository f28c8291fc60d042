"""Secrets the portal must be able to use again but nobody may read back: encrypted at rest.

A chat channel's incoming-webhook URL is a credential (whoever holds it can post to the
channel), yet every alert needs it in clear. So it is stored as a Fernet token (AES-128-CBC
with an HMAC-SHA256, from PyCA's `cryptography`) and decrypted only at the moment of
delivery; admin pages and the API show its host at most.

Why `cryptography`'s Fernet and not an encrypted model field (django-fernet-encrypted-fields
and its kin): such a field decrypts on every read, so every ModelForm, serializer, admin
export and `repr` of the row would carry the clear value. We want the opposite — the clear
value exists only inside `secret_decrypt`, called by the one delivery path. `cryptography` is
already installed (mozilla-django-oidc needs it for the ID-token signatures).

Keys: `FIELD_ENCRYPTION_KEYS` (environment, comma-separated Fernet keys as
`Fernet.generate_key()` prints them) — the first encrypts, every one decrypts, so a key is
rotated by putting the new one first and re-saving (`MultiFernet`). Without it the key is
derived from SECRET_KEY with HKDF-SHA256 (a label of its own, so the derived key is not the
SECRET_KEY reused); then changing SECRET_KEY makes the stored secrets unreadable — they must
be entered again, which `secret_decrypt` reports instead of sending anything.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet:"


class SecretUnreadable(Exception):
    """The stored value was encrypted with a key the portal no longer has."""


def _derived_key() -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sdrops secrets at rest v1")
    return base64.urlsafe_b64encode(hkdf.derive(settings.SECRET_KEY.encode()))


def _fernet() -> MultiFernet:
    keys = [key.strip() for key in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if key.strip()]
    return MultiFernet([Fernet(key) for key in keys] or [Fernet(_derived_key())])


def secret_encrypt(value: str) -> str:
    """The stored form of `value`: "fernet:<token>"."""
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def secret_decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise SecretUnreadable("Not an encrypted value.")
    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "The stored secret cannot be decrypted with the configured keys (FIELD_ENCRYPTION_KEYS / "
            "SECRET_KEY changed?); enter it again."
        ) from error


def url_shown(url: str) -> str:
    """What may be shown of a secret URL: its scheme and host, e.g. "https://hooks.slack.com/…"."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…" if host else "…"
