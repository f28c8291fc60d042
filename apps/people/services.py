"""Writes to people: contacts that arrive from other systems."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.people.models import Contact

CONTACT_UPSERT_FIELDS = ("first_name", "last_name", "title", "persona", "buying_role", "phone", "linkedin_url")


def contact_upsert(*, email: str, source: str = Contact.Source.INBOUND, actor=None, **fields) -> tuple[Contact, bool]:
    """Find the contact by email (case-insensitive) or create it; given non-blank fields
    overwrite. A known contact keeps its source (where the person first came from).
    Returns (contact, created)."""
    unknown = set(fields) - set(CONTACT_UPSERT_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    email = (email or "").strip().lower()
    with transaction.atomic():
        contact = Contact.objects.select_for_update(no_key=True).filter(email=email).first()
        created = contact is None
        if created:
            contact = Contact(email=email, source=source)
        changed = False
        for field, value in fields.items():
            if value not in (None, "") and getattr(contact, field) != value:
                setattr(contact, field, value)
                changed = True
        if created or changed:
            contact.full_clean(exclude=["account"], validate_unique=False)
            contact.save()
    return contact, created
