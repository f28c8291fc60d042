"""Issue 18 in a real browser: an SDR reads their own fairness statement (only their own);
a manager reads the team's attainment from their home."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.routing.services import lead_route
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdr_reads_their_own_fairness_statement(page, login, manager, sdr, team):
    tia = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Tia Teammate", user__username="tia")
    rule_with([sdr, tia])
    Rep.objects.filter(pk=tia.pk).update(out_of_office_from=timezone.localdate() - dt.timedelta(days=1))
    lead_route(contact=ContactFactory(email="a@away-co.com", account=None, source=Contact.Source.INBOUND))
    Rep.objects.filter(pk=tia.pk).update(out_of_office_from=None)

    login("tia")
    page.goto("/admin/reports/fairness/")
    page.wait_for_selector("#table-statement")
    rows = page.locator("#table-statement tbody tr").all_inner_texts()
    assert len(rows) == 1 and rows[0].startswith("Tia Teammate")
    skips = page.locator("#table-skips tbody tr").all_inner_texts()
    assert len(skips) == 1 and "out of office" in skips[0] and "Sam Seller" in skips[0]
    assert "from the stored routing decisions" in page.inner_text("#report").lower()


def test_manager_reads_attainment_from_their_home(page, login, manager, sdr, team):
    RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Rae Ramp",
               ramp_start=timezone.localdate().replace(day=1) - dt.timedelta(days=1))
    login("mona")
    page.goto("/admin/")
    page.wait_for_selector("#home-attainment")
    box = page.inner_text("#home-attainment")
    assert "Rae Ramp" in box and "Sam Seller" in box and "ramping" in box
    page.click("#home-attainment caption a")
    page.wait_for_selector("#table-attainment")
    names = page.locator("#table-attainment tbody tr td:first-child").all_inner_texts()
    assert names == ["Rae Ramp", "Sam Seller"]
    page.screenshot(path="/tmp/fairbooks-attainment.png", full_page=True)
