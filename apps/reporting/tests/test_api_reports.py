"""GET /api/reports/<page>/: each report page's numbers as JSON, with the page's filters and
scoping (the same filter set, scope and compute functions the pages use)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.services import integration_create
from apps.reporting.filters import ReportFilterSet
from apps.reporting.reports import REPORTS
from apps.reporting.views import report_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    made = []

    def make(rep, scopes=("read",)):
        made.append(rep)
        _, token = integration_create(name=f"reports-{rep.user.username}-{len(made)}", user=rep.user,
                                      scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture
def books(sdr, other_sdr):
    for n in range(3):
        account_set_owner(account=AccountFactory(domain=f"mine{n}.io"), to_rep=sdr, reason="manual")
    account_set_owner(account=AccountFactory(domain="theirs.io"), to_rep=other_sdr, reason="manual")


def test_every_page_is_listed_and_answers_json(api, ops, books):
    client = api(ops)
    listed = client.get("/api/reports/").json()
    assert {page["slug"] for page in listed} == set(REPORTS)
    for slug in REPORTS:
        response = client.get(f"/api/reports/{slug}/")
        assert response.status_code == 200, (slug, response.content[:300])
        assert response.json()["slug"] == slug and isinstance(response.json()["tables"], list)


def test_numbers_equal_the_page_for_the_same_filters(api, manager, sdr, books, rf):
    query = {"team": sdr.team_id, "date_from": "2026-01-01", "date_to": "2026-01-31"}
    body = api(manager).get("/api/reports/territory/", query).json()
    request = rf.get("/", query)
    request.user = manager.user
    report = REPORTS["territory"]
    filterset = ReportFilterSet(request.GET, request=request, page=report)
    assert filterset.is_valid()
    result = report_compute(report, scope=filterset.scope(user=manager.user, segment_filters_reps=False), params={})
    owners = result.table("owners")
    table = next(t for t in body["tables"] if t["key"] == "owners")
    assert [row["rep"] for row in table["rows"]] == [row["rep"] for row in owners.rows]
    assert [row["accounts"] for row in table["rows"]] == [row["accounts"] for row in owners.rows]
    assert {"Sam Seller": 3}.items() <= {row["rep"]: row["accounts"] for row in table["rows"]}.items()
    assert body["filters"]["team"] == sdr.team_id


def test_scoping_and_bad_filters(api, sdr, other_sdr, books):
    client = api(sdr)
    table = next(t for t in client.get("/api/reports/territory/").json()["tables"] if t["key"] == "owners")
    assert [row["rep"] for row in table["rows"]] == ["Sam Seller"]
    other = client.get("/api/reports/territory/", {"rep": other_sdr.pk})
    assert other.status_code == 400 and "rep" in other.json()["errors"]
    backwards = client.get("/api/reports/lead-response/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert backwards.status_code == 400 and "date_to" in backwards.json()["errors"]
    assert client.get("/api/reports/no-such-page/").status_code == 404


def test_a_company_wide_service_user_with_read_scope_reads_reports_like_ops(books, sdr, other_sdr):
    """The README's example: `create_integration "CRM sync" --user crm-sync --service-user --scopes read,…`
    makes a superuser without a password or staff flag; its token reads every report, unscoped."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_integration", "CRM sync", "--user", "crm-sync", "--service-user",
                 "--scopes", "read,write_accounts,write_leads_activities", stdout=out)
    token = next(line.split(": ", 1)[1] for line in out.getvalue().splitlines() if line.startswith("Token"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/reports/").status_code == 200
    response = client.get("/api/reports/lead-response/", {"date_from": "2026-10-01", "date_to": "2026-10-31",
                                                          "segment": "smb"})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["filters"]["date_from"] == "2026-10-01"
    table = next(t for t in client.get("/api/reports/territory/").json()["tables"] if t["key"] == "owners")
    assert {"Sam Seller", "Olga Other"} <= {row["rep"] for row in table["rows"]}


def test_a_service_user_without_read_scope_or_rep_tokens_keep_their_limits(api, books, ae, sdr):
    from django.contrib.auth import get_user_model

    service = get_user_model().objects.create(username="crm-nostaff", is_superuser=True)
    _, token = integration_create(name="no-read", user=service, scopes=["write_accounts"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/reports/").status_code == 403
    # A plain user with neither a rep nor everything in view: no reports, whatever the scope.
    nobody = get_user_model().objects.create(username="nobody", is_staff=True)
    _, token = integration_create(name="nobody-read", user=nobody, scopes=["read"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/reports/")
    assert response.status_code == 403 and "Reports are for" in response.json()["detail"]
    # A token linked to an SDR reads that SDR's own numbers only.
    table = next(t for t in api(sdr).get("/api/reports/territory/").json()["tables"] if t["key"] == "owners")
    assert [row["rep"] for row in table["rows"]] == ["Sam Seller"]
