"""AEs and managers are never counted as SDRs: not as rows of per-SDR tables, not in the
scorecard's rep list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from apps.leads.models import LeadCycle
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_manager_holding_a_lead_is_no_row_of_the_funnel_per_sdr(client, manager, sdr, ae, team):
    now = timezone.now()
    for rep in (sdr, manager, ae):
        LeadCycle.objects.create(contact=ContactFactory(), number=1, rep=rep, assigned_at=now - dt.timedelta(days=2))
    client.force_login(manager.user)
    html = client.get("/admin/reports/team-dashboard/").content.decode()
    funnel = html[html.index('id="table-funnel"'):]
    funnel = funnel[:funnel.index("</table>")]
    assert "Sam Seller" in funnel
    assert "Mona Manager" not in funnel and "Abe Closer" not in funnel


def test_scorecard_rep_list_has_only_sdrs(client, manager, sdr, ae):
    client.force_login(manager.user)
    html = client.get("/admin/reports/scorecard/").content.decode()
    select = re.search(r'<select name="rep"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert "Sam Seller" in select
    assert "Abe Closer" not in select and "Mona Manager" not in select
