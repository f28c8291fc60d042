import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.meetings.models import Meeting, Opportunity, RescheduleAttempt

pytestmark = pytest.mark.django_db


def test_demo_has_meetings_in_every_state_an_admin_should_see():
    call_command("seed_demo", "--accounts", "300", "--seed", "7")
    statuses = set(Meeting.objects.values_list("status", flat=True))
    assert {"scheduled", "completed_qualified", "no_show"} <= statuses
    now = timezone.now()
    assert Meeting.objects.filter(status="scheduled", scheduled_at__gt=now).exists()  # still to come
    assert Meeting.objects.filter(status="scheduled", disposition_due_at__lt=now).exists()  # overdue
    assert all(o.sourcing_sdr_id for o in Opportunity.objects.all()) and Opportunity.objects.exists()
    assert RescheduleAttempt.objects.filter(state="open").exists()
