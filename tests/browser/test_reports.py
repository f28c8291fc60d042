"""A manager reads a report in a real browser: changes the date range, sees the chart drawn
by the vendored Chart.js, and downloads the CSV of the table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from apps.reporting.tests.conftest import make_cycle

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = "team-dashboard"


def test_manager_changes_the_range_sees_the_chart_and_downloads_the_csv(page, login, manager, sdr, other_sdr):
    now = timezone.now()
    make_cycle(sdr, now - dt.timedelta(days=3), touch=now - dt.timedelta(days=3) + dt.timedelta(hours=2))
    make_cycle(sdr, now - dt.timedelta(days=45), touch=now - dt.timedelta(days=45) + dt.timedelta(hours=4))
    make_cycle(other_sdr, now - dt.timedelta(days=3))

    login("mona")
    page.goto("/admin/")
    page.click(f"#report-links a[href$='/reports/{REPORT}/']")
    page.wait_for_selector("#table-funnel")
    page.wait_for_selector("#report-chart[data-rendered='true']")
    rows = page.locator("#table-funnel tbody tr", has_text="Sam Seller").locator("td").all_inner_texts()
    assert rows[1] == "1"  # the last 30 days hold one of Sam's two MQLs
    assert "Olga Other" not in page.inner_text("#report")

    start = (timezone.localdate() - dt.timedelta(days=60)).isoformat()
    page.fill("#id_date_from", start)
    page.click("#apply-filters")
    page.wait_for_url(f"**date_from={start}**")
    page.wait_for_selector("#report-chart[data-rendered='true']")
    rows = page.locator("#table-funnel tbody tr", has_text="Sam Seller").locator("td").all_inner_texts()
    assert rows[1] == "2"
    size = page.evaluate("() => { const c = document.getElementById('report-chart'); return [c.width, c.height, !!Chart.getChart(c)]; }")
    assert size[0] > 0 and size[1] > 0 and size[2] is True

    with page.expect_download() as info:
        page.click("#export-funnel")
    download = info.value
    assert download.suggested_filename.startswith(f"{REPORT}-funnel-{start}")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("SDR,MQLs,SQLs,Opps,MQL→SQL,SQL→Opp,MQL→Opp")
    assert any(line.startswith("Sam Seller,2,0,0,0.0%,—,0.0%") for line in text.splitlines())
    assert "Olga Other" not in text
