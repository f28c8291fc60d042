"""A rep unqualifies a tradeshow list without a touch; the alarms job raises one alarm; the
manager sees it on their home in a real browser, opens it, follows a lead and acknowledges it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.campaigns.services import campaign_lead_attach
from apps.campaigns.tasks import alarms_raise_task
from apps.campaigns.tests.factories import CampaignFactory
from apps.leads.models import DispositionReason
from apps.leads.services import lead_cycle_disposition, lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_sees_the_cherry_picking_alarm_on_their_home(page, login, manager, sdr):
    show = CampaignFactory(name="Tradeshow 2026", offer="event")
    reason = DispositionReason.objects.get(label="Not a prospect (student, job seeker)")
    start = timezone.now() - dt.timedelta(hours=2)
    for _ in range(5):
        contact = ContactFactory(source="event")
        cycle = lead_cycle_open(contact=contact, rep=sdr, source="event", assigned_at=start)
        campaign_lead_attach(campaign=show, contact=contact, cycle=cycle)
        lead_cycle_disposition(cycle=cycle, disposition="unqualified", reason=reason, actor=sdr.user)
    assert alarms_raise_task() == {"cherry_picking": 1}
    assert alarms_raise_task() == {}

    login("mona")
    page.goto("/admin/")
    panel = page.locator("#alarms-panel")
    title = "Sam Seller dispositioned 5 leads of campaign “Tradeshow 2026” without a touch"
    assert panel.locator("tr.alarm").count() == 1
    panel.get_by_role("link", name=title).click()
    page.wait_for_selector("text=5 leads (unqualified) within 24 h")
    assert page.locator(".field-records a[href*='/admin/leads/leadcycle/']").count() == 5

    page.goto("/admin/campaigns/alarm/")
    page.check("input.action-select")
    page.select_option("select[name=action]", "alarms_acknowledge")
    page.click("button[name=index]")
    page.wait_for_selector("text=1 alarm(s) acknowledged.")
    page.goto("/admin/")
    assert page.locator("#alarms-panel").inner_text().count("No open alarms.") == 1
