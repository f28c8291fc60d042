"""The ICP refinement page with the figures of apps/icps/tests/refinement_world.py, worked by
hand; following a proposal into the impact preview and confirming it there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.icps.models import ICPChange
from apps.icps.tests.refinement_world import PERIOD, refinement_world
from apps.reporting.tests.conftest import csv_table, html_table

pytestmark = pytest.mark.django_db
URL = "/admin/icps/icp/refinement/"


@pytest.fixture
def world(sdr, ae):
    return refinement_world(sdr=sdr, ae=ae)


def test_returns_conversion_rules_and_proposals_worked_by_hand(client, ops, world, django_assert_max_num_queries):
    client.force_login(ops.user)
    client.get(URL, PERIOD)  # warm the per-process caches (permissions, active ICPs)
    # Session, user, rep, 3 configuration-version checks, the admin's 2 settings-row checks and the
    # page's 3 statements — whatever the number of accounts, ICPs or rules.
    with django_assert_max_num_queries(11):
        html = client.get(URL, PERIOD).content.decode()
    # 7 counted returns: 6 No ICP fit (S1-S4 tier B, F1 tier C, P1 no match), 1 Not interested (F3, C).
    assert html_table(html, "returns-by-reason") == [
        ["Reason", "Returns", "Share", "Tier A", "Tier B", "Tier C", "No ICP match"],
        ["No ICP fit", "6", "85.7%", "0", "4", "1", "1"],
        ["Not interested", "1", "14.3%", "0", "0", "1", "0"],
    ]
    # Tier B (S): 1 of 10 converted, 4 returned; tier C (F): 3 of 10, 1 returned; P1: 1 returned.
    assert html_table(html, "conversion-by-tier")[1:] == [
        ["Tier A", "0", "0", "—", "0", "—"],
        ["Tier B", "10", "1", "10.0%", "4", "40.0%"],
        ["Tier C", "10", "3", "30.0%", "1", "10.0%"],
        ["No ICP match", "1", "0", "0.0%", "1", "100.0%"],
    ]
    assert "Low scores outperform high ones: Tier C converts 30.0% vs Tier B 10.0%." in html
    # Over Core's 20 accounts. R1 S1-S10: 4 returned (40%) vs F's 1 of 10; converted 1 vs 3 of 10.
    # R2 F1-F10: 1 returned vs 4 of 10; converted 3 (30%) vs 1 of 10. R3 F1-F5: 1 of 5 (20%) vs
    # 4 of 15 (26.7%); 3 of 5 converted (60%) vs 1 of 15 (6.7%). R4 S + F6-F10: 4 of 15 (26.7%)
    # vs 1 of 5 (20%); converted 1 of 15 (6.7%) vs 3 of 5 (60%).
    assert html_table(html, "rules")[1:] == [
        ["Core", "Industry is one of Software", "Fit", "40", "10", "4", "40.0%", "10.0%", "1", "10.0%", "30.0%"],
        ["Core", "Employees between 100 and 1,000", "Fit", "10", "10", "1", "10.0%", "40.0%", "3", "30.0%", "10.0%"],
        ["Core", "Uses any of the technologies Marketo", "Readiness", "10", "5", "1", "20.0%", "26.7%", "3", "60.0%", "6.7%"],
        ["Core", "Country is one of United States", "Fit", "5", "15", "4", "26.7%", "20.0%", "1", "6.7%", "60.0%"],
    ]
    proposals = html_table(html, "proposals")
    assert [row[:5] for row in proposals[1:]] == [
        ["Returned as not an ICP fit", "Core", "Industry is one of Software", "40", "20"],
        ["Include what converts", "Core", "Employees between 100 and 1,000", "10", "15"],
        ["Include what converts", "Core", "Uses any of the technologies Marketo", "10", "15"],
        ["Low scores outperform high ones", "Core", "Country is one of United States", "5", "2"],
    ]
    assert proposals[1][5] == ("4 of its 10 accounts (40.0%) were returned as No ICP fit, 4.0× the rate of the ICP's "
                               "other accounts (10.0%): halve its points.")
    assert proposals[3][5] == ("3 of its 5 accounts (60.0%) converted, 9.0× the rate of the ICP's other accounts (6.7%): "
                               "weigh it more.")
    assert proposals[4][5] == ("Tier C converts 30.0% vs Tier B 10.0%; accounts with this rule convert 6.7% vs 60.0% "
                               "without it: halve its points.")
    assert "feedback without action means no more feedback" in html  # the definitions
    for key in ("returns-by-reason", "conversion-by-tier", "rules", "proposals"):
        assert csv_table(client.get(URL, {**PERIOD, "export": key}).content.decode()) == html_table(html, key)


def test_a_proposal_opens_the_impact_preview_and_confirming_saves_through_the_admin(client, ops, world,
                                                                                       django_capture_on_commit_callbacks):
    client.force_login(ops.user)
    r1 = world["rules"]["R1"]
    link = reverse("admin:icps_icp_propose", args=[world["icp"].pk]) + f"?rule={r1.pk}&points=20&trigger=returned_no_icp"
    assert link.replace("&", "&amp;") in client.get(URL, PERIOD).content.decode()
    preview = client.get(link)
    assert preview.templates[0].name == "admin/icps/icp/impact_preview.html"
    # S1-S10 fall from 45 (B) to 25 (C); nothing else moves.
    assert preview.context["preview"].moves == {("B", "C"): 10}
    page = preview.content.decode()
    assert "Returned as not an ICP fit: Industry is one of Software (Fit (max 40)) 40 → 20 points" in page
    r1.refresh_from_db()
    assert r1.points == 40 and not ICPChange.objects.exists()  # nothing saved by looking
    data = dict(preview.context["hidden"])
    assert preview.context["action"] == reverse("admin:icps_icp_change", args=[world["icp"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(preview.context["action"], {**data, "_confirm_impact": "1"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    r1.refresh_from_db()
    assert r1.points == 20
    assert [r.points for r in world["icp"].rules.order_by("position")] == [0, 20, 10, 10, 5]  # the others as they were
    change = ICPChange.objects.get()
    assert change.actor == ops.user and change.changes["rules_changed"] == [
        ["Industry is one of Software (+40)", "Industry is one of Software (+20)"]]


def test_only_ops_who_may_edit_icps_get_the_preview(client, sdr, manager, world):
    r1 = world["rules"]["R1"]
    link = reverse("admin:icps_icp_propose", args=[world["icp"].pk]) + f"?rule={r1.pk}&points=20"
    client.force_login(manager.user)
    assert client.get(link).status_code in (302, 403)
    assert client.get(link.replace("points=20", "points=99")).status_code in (302, 403, 404)
