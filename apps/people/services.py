"""Writes to people: contacts that arrive from other systems."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.people.models import Contact

CONTACT_UPSERT_FIELDS = ("first_name", "last_name", "title", "persona", "buying_role", "phone", "linkedin_url")


_LOOK_UP = object()


def contact_upsert(*, email: str, source: str = Contact.Source.INBOUND, actor=None, existing=_LOOK_UP,
                   **fields) -> tuple[Contact, bool]:
    """Find the contact by email (case-insensitive) or create it; given non-blank fields
    overwrite. A known contact keeps its source (where the person first came from).
    Returns (contact, created).

    `existing`: the contact the caller has just locked (SELECT … FOR NO KEY UPDATE, inside
    its transaction) for this email, or None when it found none — then no look-up here.
    Fields are validated before anything is written, so a refusal needs no savepoint."""
    unknown = set(fields) - set(CONTACT_UPSERT_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    email = (email or "").strip().lower()
    error = None
    with transaction.atomic(savepoint=False):
        if existing is _LOOK_UP:
            contact = Contact.objects.select_for_update(no_key=True).filter(email=email).first()
        else:
            contact = existing
        created = contact is None
        if created:
            contact = Contact(email=email, source=source)
        changed = False
        for field, value in fields.items():
            if value not in (None, "") and getattr(contact, field) != value:
                setattr(contact, field, value)
                changed = True
        if created or changed:
            try:
                # The one constraint (email in lower case) holds by construction for ASCII
                # (lowered above); PostgreSQL's LOWER() may differ from Python's beyond it.
                contact.full_clean(exclude=["account"], validate_unique=False, validate_constraints=not email.isascii())
            except ValidationError as invalid:
                error = invalid
            else:
                contact.save()
    if error is not None:
        raise error
    return contact, created
