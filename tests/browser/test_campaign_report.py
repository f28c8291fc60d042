"""Ops create a campaign in the admin, a lead arrives with it, and the manager reads the
campaign report in a real browser: the table, the chart against the similar cohort, the
definition of "similar" and the CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from apps.reporting.tests.conftest import make_cycle

pytestmark = pytest.mark.django_db(transaction=True)


def test_ops_adds_a_campaign_and_the_manager_reads_its_report(page, login, ops, manager, sdr, other_sdr):
    login(ops.user.username)
    page.goto("/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Spring webinar")
    page.select_option("#id_offer", "webinar")
    page.fill("#id_cost", "2500")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")

    now = timezone.now()
    make_cycle(sdr, now - dt.timedelta(days=3), touch=now - dt.timedelta(days=3) + dt.timedelta(hours=2),
               campaign="Spring webinar")
    make_cycle(sdr, now - dt.timedelta(days=2))
    make_cycle(other_sdr, now - dt.timedelta(days=2), campaign="Spring webinar")

    login("mona")
    page.goto("/admin/")
    page.click("#report-links a[href$='/reports/campaigns/']")
    page.wait_for_selector("#table-by-campaign")
    page.wait_for_selector("#report-chart[data-rendered='true']")
    cells = page.locator("#table-by-campaign tbody tr", has_text="Spring webinar").locator("td").all_inner_texts()
    assert cells[:5] == ["Spring webinar", "Webinar", "1", "1", "100.0%"]  # Olga's lead is another team's
    assert "whose contact never interacted with that campaign" in page.inner_text("#report")
    assert "Olga Other" not in page.inner_text("#report")

    with page.expect_download() as info:
        page.click("#export-vs-similar")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("Campaign,Matched on (lead type / source),Leads,Cohort leads")
    assert any(line.startswith("Spring webinar,inbound / inbound,1,1,") for line in text.splitlines())
