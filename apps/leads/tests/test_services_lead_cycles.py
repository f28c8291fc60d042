import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.leads.models import DispositionReason, LeadCycle
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_open_cycle_starts_clock_and_numbers_cycles(sdr):
    contact = ContactFactory(source="inbound")
    at = timezone.now() - dt.timedelta(hours=1)
    cycle = lead_cycle_open(contact=contact, rep=sdr, assigned_at=at)
    assert (cycle.number, cycle.state, cycle.assigned_at, cycle.source) == (1, "assigned", at, "inbound")
    assert lead_cycle_current(contact=contact) == cycle
    with pytest.raises(ValidationError, match="already has an open lead cycle"):
        lead_cycle_open(contact=contact, rep=sdr)
    LeadCycle.objects.filter(pk=cycle.pk).update(
        state="dispositioned", disposition="nurture", disposition_reason="No response (end of cadence)",
        reason=DispositionReason.objects.get(code="no_response"), dispositioned_at=timezone.now(),
    )
    recycled = lead_cycle_open(contact=contact, rep=sdr, lead_type="outbound")
    assert recycled.number == 2 and LeadCycle.objects.filter(contact=contact).count() == 2


def test_database_refuses_two_open_cycles_and_inconsistent_disposition(sdr):
    contact = ContactFactory()
    lead_cycle_open(contact=contact, rep=sdr)
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadCycle.objects.create(contact=contact, number=2, rep=sdr, assigned_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadCycle.objects.create(
            contact=ContactFactory(), number=1, rep=sdr, assigned_at=timezone.now(), state="dispositioned"
        )


def test_unknown_lead_type_refused(sdr):
    with pytest.raises(ValidationError, match="Unknown lead type"):
        lead_cycle_open(contact=ContactFactory(), rep=sdr, lead_type="cold")
