"""How a contact's phone number and LinkedIn address are checked and stored, for every entry
point (admin form, CSV import, API): one place, so an imported number and a typed one look
the same. Phone numbers become E.164 ("+14155550123") through libphonenumber
(django-phonenumber-field); numbers typed without a country code are read in
settings.PHONENUMBER_DEFAULT_REGION. LinkedIn addresses become
"https://www.linkedin.com/in/<name>" (or /company/<name>)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

LINKEDIN_PATH = re.compile(r"^/(in|pub|company|school)/([^/?#\s]+)/?", re.IGNORECASE)


def normalize_phone(value: str) -> str:
    """"(415) 555-0123" → "+14155550123"; "" stays ""; anything not a possible number is a
    ValidationError saying what is expected."""
    raw = (value or "").strip()
    if not raw:
        return ""
    region = getattr(settings, "PHONENUMBER_DEFAULT_REGION", None) or "US"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"“{raw[:40]}” is not a valid phone number; give it with its country code, like +1 415 555 0123."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_linkedin_url(value: str) -> str:
    """Any form of a LinkedIn profile or company address → its canonical https URL."""
    raw = (value or "").strip()
    if not raw:
        return ""
    candidate = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(candidate)
    host = (parts.hostname or "").lower()
    match = LINKEDIN_PATH.match(parts.path or "")
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")) or match is None:
        raise ValidationError(
            f"“{raw[:60]}” is not a LinkedIn profile address; expected one like https://www.linkedin.com/in/jane-doe."
        )
    kind, name = match.group(1).lower(), match.group(2)
    return f"https://www.linkedin.com/{kind}/{name}"


def validate_linkedin_url(value: str) -> None:
    normalize_linkedin_url(value)


def phone_display(value) -> str:
    """"+14155550123" → "+1 415-555-0123" for reading; the tel: link keeps E.164."""
    text = str(value or "")
    if not text:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(text, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return text
