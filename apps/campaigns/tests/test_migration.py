"""The data migration's statements, run against cycles that carry free-text campaigns."""

import datetime as dt
import importlib

import pytest
from django.db import connection

from apps.campaigns.models import Campaign, CampaignInteraction
from apps.reporting.tests.conftest import make_cycle

migration = importlib.import_module("apps.campaigns.migrations.0002_free_text_defaults_schedules_roles")
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_free_text_campaigns_become_records_and_cycles_link_to_them(sdr):
    from apps.leads.models import LeadCycle

    cycles = [make_cycle(sdr, T0, done=T0 + dt.timedelta(hours=1), disposition="qualified") for _ in range(4)]
    # Written as the old code left them: free text only (make_cycle would link a record). The
    # earliest cycle's spelling names the record (same assigned-at: the lower id).
    for cycle, text in zip(cycles, ["Webinar", " webinar ", "Pricing", ""], strict=True):
        LeadCycle.objects.filter(pk=cycle.pk).update(campaign=text)
    for _ in range(2):  # safe to run twice
        with connection.cursor() as cursor:
            cursor.execute(migration.CREATE_CAMPAIGNS)
            cursor.execute(migration.LINK_CYCLES)
    assert sorted(Campaign.objects.values_list("name", flat=True)) == ["Pricing", "Webinar"]
    links = dict(CampaignInteraction.objects.values_list("lead_cycle_id", "campaign__name"))
    assert links == {cycles[0].pk: "Webinar", cycles[1].pk: "Webinar", cycles[2].pk: "Pricing"}
    assert CampaignInteraction.objects.get(lead_cycle=cycles[0]).occurred_at == T0
    assert LeadCycle.objects.get(pk=cycles[1].pk).campaign == " webinar "  # the text stays readable
