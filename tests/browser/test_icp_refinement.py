"""An ops admin opens ICP refinement from the ICP list in a real browser, reads the proposals
the month's returns and results call for, follows one into the impact preview and confirms it."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.icps.models import ICPChange
from apps.icps.tests.refinement_world import refinement_world

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_ops_follows_a_refinement_proposal_into_the_impact_preview(page, login, ops, sdr, ae):
    world = refinement_world(sdr=sdr, ae=ae)
    r1 = world["rules"]["R1"]
    login("opal")
    page.goto("/admin/icps/icp/")
    page.click("#icp-refinement-link")
    page.wait_for_selector("#report[data-report='icp-refinement']")
    page.fill("#id_date_from", "2026-03-01")
    page.fill("#id_date_to", "2026-03-31")
    page.click("#apply-filters")
    page.wait_for_selector("#proposal-list")
    assert page.locator("#proposal-list li").count() == 4
    assert "Tier C converts 30.0% vs Tier B 10.0%" in page.inner_text("#tier-inversion")
    first = page.locator("#proposal-list li").first.inner_text()
    assert first.startswith("Returned as not an ICP fit — Core: Industry is one of Software, 40 → 20 points.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "icp-refinement.png"), full_page=True)

    page.click(f"#preview-{r1.pk}")
    page.wait_for_selector("#impact-preview")
    assert "40 → 20 points" in page.inner_text("#impact-proposal")
    assert page.inner_text("#tier-moves") == "Tier B → Tier C: 10"
    page.screenshot(path=str(SHOTS / "icp-refinement-preview.png"), full_page=True)
    r1.refresh_from_db()
    assert r1.points == 40  # nothing saved by looking

    page.click("#confirm-impact")
    page.wait_for_selector("text=was changed successfully")
    r1.refresh_from_db()
    assert r1.points == 20 and ICPChange.objects.get().actor == ops.user
