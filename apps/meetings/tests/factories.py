from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from apps.meetings.models import Meeting


class MeetingFactory(factory.django.DjangoModelFactory):
    """A scheduled meeting written directly (for lists and admin tests); services tests book
    through apps.meetings.services.meeting_book instead."""

    class Meta:
        model = Meeting

    contact = factory.SubFactory("apps.people.tests.factories.ContactFactory")
    account = factory.LazyAttribute(lambda o: o.contact.account)
    sdr = factory.SubFactory("apps.people.tests.factories.RepFactory", role="sdr")
    ae = factory.SubFactory("apps.people.tests.factories.RepFactory", role="ae")
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    scheduled_end_at = factory.LazyAttribute(lambda o: o.scheduled_at + dt.timedelta(minutes=30))
    disposition_due_at = factory.LazyAttribute(lambda o: o.scheduled_end_at + dt.timedelta(hours=24))
