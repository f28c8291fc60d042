"""Webhook signatures in both directions: Standard Webhooks, and the old body-only HMAC
until its sunset.

Standard Webhooks (https://www.standardwebhooks.com, the `standardwebhooks` package) signs
`webhook-id.webhook-timestamp.body` with HMAC-SHA256 and sends three headers:
`webhook-id` (the same on every retry: the receiver's idempotency key), `webhook-timestamp`
(Unix seconds of this attempt) and `webhook-signature` (`v1,<base64>`, several separated by
spaces during a key rotation). A receiver refuses a timestamp more than 5 minutes from its
clock, so a captured delivery cannot be replayed later, and remembers the ids it applied, so
it cannot be replayed within the window either.

The old scheme (`X-Sdrops-Signature: sha256=<hex HMAC of the body>`) proves only the body:
anyone who saw one delivery could send it again under a new Idempotency-Key. It is still
verified (inbound) and sent (outbound) until WEBHOOK_LEGACY_SIGNATURE_UNTIL, so CRMs and
receivers have time to switch; inbound, a body already applied under it is never applied
again whatever its key (apps.integrations.services.crm_delivery_receive).

One stored secret per integration or endpoint serves both schemes: the legacy HMAC key is
its UTF-8 bytes, and its Standard Webhooks spelling is `whsec_` + base64 of the same bytes
(`standard_secret`) — unless ops stored a `whsec_…` secret a receiver gave them, which is
then used as Standard Webhooks defines it.

The library's verify() raises ValueError / binascii.Error / UnicodeDecodeError rather than
its own error on some malformed headers and bodies; every header is checked here first and
those errors are caught too, so hostile input is a 401, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date
from standardwebhooks import Webhook, WebhookVerificationError

LEGACY_HEADER = "X-Sdrops-Signature"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
STANDARD_HEADERS = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
# The library's fixed window (5 minutes either way); named here for messages and docs.
TOLERANCE = dt.timedelta(minutes=5)
SECRET_PREFIX = "whsec_"
MAX_ID_LENGTH = 200  # InboundDelivery.idempotency_key
MAX_SIGNATURE_HEADER = 2000  # room for a few signatures during a key rotation

_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE_RE = re.compile(r"^[a-z0-9]{1,10},[A-Za-z0-9+/]+={0,2}$")
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


class SignatureRefused(Exception):
    """The delivery's signature headers do not prove it; the message says what to fix."""


def _strict_base64(text: str) -> bytes | None:
    if not _BASE64_RE.match(text) or len(text) % 4:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def standard_secret(secret: str) -> str:
    """The secret as Standard Webhooks spells it (`whsec_<base64 key>`)."""
    if secret.startswith(SECRET_PREFIX) and _strict_base64(secret[len(SECRET_PREFIX):]):
        return secret
    return SECRET_PREFIX + base64.b64encode(secret.encode()).decode()


def standard_headers(*, secret: str, msg_id: str, body: bytes, timestamp: dt.datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt of `body`."""
    # The library's sign() does timestamp.replace(tzinfo=utc): hand it UTC, never another zone.
    moment = (timestamp or timezone.now()).astimezone(dt.UTC)
    signature = Webhook(standard_secret(secret)).sign(msg_id=msg_id, timestamp=moment, data=body.decode("utf-8"))
    return {ID_HEADER: msg_id, TIMESTAMP_HEADER: str(int(moment.timestamp())), SIGNATURE_HEADER: signature}


def _header_value(headers, name: str) -> str:
    value = headers.get(name)
    return value if isinstance(value, str) else ""


def standard_verify(*, secret: str, headers, body: bytes) -> str:
    """Check a Standard Webhooks delivery; returns its webhook-id. Raises SignatureRefused."""
    msg_id = _header_value(headers, ID_HEADER).strip()
    stamp = _header_value(headers, TIMESTAMP_HEADER).strip()
    signatures = _header_value(headers, SIGNATURE_HEADER).strip()
    missing = [name for name, value in zip(STANDARD_HEADERS, (msg_id, stamp, signatures), strict=True) if not value]
    if missing:
        raise SignatureRefused(f"Missing header{'s' if len(missing) > 1 else ''} {', '.join(missing)} (Standard Webhooks).")
    if len(msg_id) > MAX_ID_LENGTH or not msg_id.isprintable():
        raise SignatureRefused(f"{ID_HEADER} must be at most {MAX_ID_LENGTH} printable characters.")
    if not _TIMESTAMP_RE.match(stamp):
        raise SignatureRefused(f"{TIMESTAMP_HEADER} must be the Unix time in seconds.")
    if len(signatures) > MAX_SIGNATURE_HEADER or not signatures.isascii() or not all(
        _SIGNATURE_RE.match(part) for part in signatures.split()
    ):
        raise SignatureRefused(f"{SIGNATURE_HEADER} must be “v1,<base64 HMAC-SHA256>” (several separated by spaces).")
    sent_at = dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)
    now = timezone.now()
    if abs(now - sent_at) > TOLERANCE:
        raise SignatureRefused(
            f"{TIMESTAMP_HEADER} {stamp} ({sent_at:%Y-%m-%d %H:%M:%S} UTC) is more than "
            f"{int(TOLERANCE.total_seconds() // 60)} minutes from the server's clock ({now:%Y-%m-%d %H:%M:%S} UTC): "
            "a replayed delivery, or a sender whose clock is wrong."
        )
    try:
        Webhook(standard_secret(secret)).verify(
            body, {ID_HEADER: msg_id, TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signatures}, json_parse=False
        )
    except (WebhookVerificationError, ValueError, TypeError):
        # ValueError covers binascii.Error and UnicodeDecodeError (a body that is not UTF-8).
        raise SignatureRefused(
            f"Bad {SIGNATURE_HEADER}: expected v1,<base64 HMAC-SHA256 of “{ID_HEADER}.{TIMESTAMP_HEADER}.body”> "
            "with the integration's secret."
        )
    return msg_id


def legacy_sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def legacy_valid(*, secret: str, body: bytes, signature: str | None) -> bool:
    given = (signature or "").strip()
    # compare_digest raises TypeError on non-ASCII str; such a header is simply wrong.
    if not given.isascii():
        return False
    return hmac.compare_digest(legacy_sign(secret, body).encode(), given.encode())


def legacy_sunset() -> dt.date | None:
    """The last day the body-only signature is accepted and sent; None: no longer."""
    value = (getattr(settings, "WEBHOOK_LEGACY_SIGNATURE_UNTIL", "") or "").strip()
    return parse_date(value) if value else None


def legacy_accepted(*, now: dt.datetime | None = None) -> bool:
    sunset = legacy_sunset()
    return sunset is not None and timezone.localdate(now or timezone.now(), dt.UTC) <= sunset
