"""Erasing a person's personal data on request ("right to be forgotten").

The contact row stays, anonymised, so every count a report makes (leads assigned, picked up,
qualified; activities per rep) is unchanged; what identifies or describes the person — name,
email, title, persona, and the free text reps wrote about them — is wiped. Each app that
stores free text about a contact lists it in ERASABLE_TEXT.
"""

from __future__ import annotations

import hashlib

from django.apps import apps
from django.db import transaction

from apps.people.actors import actor_user
from apps.people.models import Contact, PersonalDataRequest

# (app_label.Model, lookup from that model to the contact, fields to blank)
ERASABLE_TEXT: list[tuple[str, str, tuple[str, ...]]] = [
    ("accounts.Activity", "contact", ("subject",)),
    ("leads.LeadCycleEvent", "cycle__contact", ("note",)),
    ("meetings.Meeting", "contact", ("notes", "disposition_notes")),
]


def email_digest(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def contact_forget(*, email: str, actor=None, note: str = "") -> PersonalDataRequest:
    """Erase the personal data of the contact with `email` and log the request (also when no
    such contact exists, so the request itself is on record). Safe to run twice."""
    digest = email_digest(email)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(email=(email or "").strip().lower()).first()
        erased = 0
        if contact is not None:
            for label, path, fields in ERASABLE_TEXT:
                try:
                    model = apps.get_model(label)
                except LookupError:
                    continue
                erased += model.objects.filter(**{path: contact}).update(**dict.fromkeys(fields, ""))
            Contact.objects.filter(pk=contact.pk).update(
                first_name="", last_name="", title="", persona="",
                email=f"forgotten-{contact.pk}@forgotten.invalid",
            )
            erased += 1
        return PersonalDataRequest.objects.create(
            email_sha256=digest, contact_id=contact.pk if contact else None,
            requested_by=actor_user(actor),
            found=contact is not None, records_erased=erased, note=note[:255],
        )
