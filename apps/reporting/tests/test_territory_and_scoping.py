from __future__ import annotations

import pytest

from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.reporting.tests.conftest import csv_table, html_table, make_accounts


@pytest.fixture
def books(team, manager, sdr, tia, other_sdr):
    uma = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Uma Third", user__username="uma")
    # Sam 4 (A, A, B, C), Tia 2 (unscored, one a customer), Uma 3 (B × 3): mean 3.
    make_accounts(sdr, 2, tier="A")
    make_accounts(sdr, 1, tier="B", status="active")
    make_accounts(sdr, 1, tier="C")
    make_accounts(tia, 1)
    make_accounts(tia, 1, status="customer")
    make_accounts(uma, 3, tier="B")
    make_accounts(other_sdr, 5, tier="A")
    # Pool: 2 tier-A prospects and 1 tier-B (SMB), 1 tier-A enterprise, a disqualified tier A (not counted).
    make_accounts(None, 2, tier="A")
    make_accounts(None, 1, tier="B")
    make_accounts(None, 1, tier="A", segment="enterprise")
    make_accounts(None, 1, tier="A", status="disqualified")
    return uma


def test_territory_balance_against_the_mean(report, manager, books):
    response = report(manager, "territory")
    assert response.status_code == 200
    html = response.content.decode()
    rows = {row[0]: row for row in html_table(html, "owners")[1:]}
    header = html_table(html, "owners")[0]
    col = {name: i for i, name in enumerate(header)}
    assert set(rows) == {"Sam Seller", "Tia Teammate", "Uma Third", "All owners"}  # not Olga (other team)
    sam, tia, uma = rows["Sam Seller"], rows["Tia Teammate"], rows["Uma Third"]
    # mean 3: Sam 4/3 − 1 = +33% (outside), Tia 2/3 − 1 = −33% (outside), Uma 0% (balanced).
    assert (sam[col["Accounts"]], sam[col["vs mean"]], sam[col["Balance"]]) == ("4", "33%", "outside ±20%")
    assert (tia[col["Accounts"]], tia[col["vs mean"]], tia[col["Balance"]]) == ("2", "-33%", "outside ±20%")
    assert (uma[col["Accounts"]], uma[col["vs mean"]], uma[col["Balance"]]) == ("3", "0%", "balanced")
    assert [sam[col[k]] for k in ("Tier A", "Tier B", "Tier C", "Unscored")] == ["2", "1", "1", "0"]
    assert [sam[col[k]] for k in ("Tier A %", "Tier B %", "Tier C %")] == ["50%", "25%", "25%"]
    assert [tia[col[k]] for k in ("Prospect", "Customer", "Unscored")] == ["1", "1", "2"]
    assert rows["All owners"][col["Accounts"]] == "9"
    assert rows["All owners"][col["Balance"]] == "mean 3.0"
    pool = {row[0]: row for row in html_table(html, "unassigned")[1:]}
    assert pool["SMB"][1:] == ["2", "1", "3"]
    assert pool["Enterprise"][1:] == ["1", "0", "1"]
    assert pool["All"][1:] == ["3", "1", "4"]


def test_territory_segment_filter_reads_the_account_segment(report, manager, books):
    html = report(manager, "territory", segment="enterprise").content.decode()
    rows = {row[0]: row for row in html_table(html, "owners")[1:]}
    # Nobody in the team owns an enterprise account: zeros, and the mean of zero is "no data".
    assert rows["Sam Seller"][1:4] == ["0", "—", "no data"]
    assert html_table(html, "unassigned")[1][0:2] == ["Enterprise", "1"]


def test_territory_csv_equals_table_and_is_formula_safe(report, manager, sdr, books):
    from apps.accounts.models import Account

    Account.objects.filter(owner=sdr).update(name="=HYPERLINK(1)")
    html = report(manager, "territory").content.decode()
    export = report(manager, "territory", export="owners")
    rows = csv_table(export.content.decode())
    # The negative deviation gains the apostrophe spreadsheets read as "text".
    expected = [[("'" + c) if c[:1] in ("=", "+", "-", "@") else c for c in row] for row in html_table(html, "owners")]
    assert rows == expected
    assert any(cell == "'-33%" for row in rows for cell in row)


def test_manager_cannot_report_on_another_team_by_editing_the_url(report, manager, books, other_team, other_sdr):
    response = report(manager, "territory", team=other_team.pk)
    assert response.status_code == 400
    html = response.content.decode()
    assert "That team is not one you may report on" in html
    assert "Olga Other" not in html.split('id="filter-errors"')[1]
    assert 'id="table-owners"' not in html
    response = report(manager, "territory", rep=other_sdr.pk)
    assert response.status_code == 400
    assert "That rep is not one you may report on" in response.content.decode()
    export = report(manager, "territory", team=other_team.pk, export="owners")
    assert export.status_code == 400
    assert b"Olga" not in export.content
    for bad in ({"team": "abc"}, {"date_from": "2026-13-45"}, {"date_from": "2026-02-01", "date_to": "2026-01-01"},
                {"date_from": "2020-01-01", "date_to": "2026-01-01"}):
        response = report(manager, "activity", **bad)
        assert response.status_code == 400, bad


def test_sdr_sees_only_themselves_and_ops_sees_everyone(report, sdr, ops, books):
    rows = [row[0] for row in html_table(report(sdr, "territory").content.decode(), "owners")[1:]]
    assert rows == ["Sam Seller", "All owners"]
    rows = [row[0] for row in html_table(report(ops, "territory").content.decode(), "owners")[1:]]
    assert rows == ["Olga Other", "Sam Seller", "Tia Teammate", "Uma Third", "All owners"]


def test_manager_team_filter_of_their_own_team(report, manager, team, books):
    response = report(manager, "territory", team=team.pk)
    assert response.status_code == 200


def test_reports_index_and_admin_index_link(client, manager):
    client.force_login(manager.user)
    html = client.get("/admin/").content.decode()
    assert 'id="report-links"' in html
    assert "/admin/reports/territory/" in html
    assert client.get("/admin/reports/").status_code == 200


@pytest.mark.parametrize("accounts_per_rep", [1, 12])
def test_territory_query_count_is_bounded(report, manager, team, django_assert_max_num_queries, accounts_per_rep):
    for i in range(4):
        rep = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name=f"Rep {i}")
        make_accounts(rep, accounts_per_rep, tier="ABC"[i % 3])
    report(manager, "territory")  # warm the session and content types
    with django_assert_max_num_queries(18):
        assert report(manager, "territory").status_code == 200


def test_login_required_unknown_pages_and_tables(client, report, manager):
    response = client.get("/admin/reports/territory/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert report(manager, "no-such-report").status_code == 404
    response = report(manager, "territory", export="nope")
    assert response.status_code == 400 and "no table" in response.content.decode()


def test_staff_without_a_rep_record_gets_no_reports(client, db):
    from apps.people.tests.factories import UserFactory

    client.force_login(UserFactory(username="stranger"))
    assert client.get("/admin/reports/territory/").status_code == 403
    assert 'id="report-links"' not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("slug", ["capacity", "territory", "activity", "icp-coverage", "lead-response",
                                  "team-dashboard", "meetings", "conversion", "cadences", "returns", "scorecard"])
def test_every_page_renders_empty_with_chart_definitions_and_csv(report, ops, sdr, slug):
    from apps.reporting.reports import REPORTS

    page = REPORTS[slug]
    params = {"rep": sdr.pk} if slug == "scorecard" else {}
    response = report(ops, slug, **params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="computed-at"' in html and 'id="report-chart"' in html and 'id="definitions"' in html
    assert "vendor/chart.js/chart.umd.min.js" in html and "https://" not in html.split("<body")[0]
    form = page.params_form({}) if page.params_form else None
    assert form is None or form.is_valid()
    result = page.compute(scope=_scope_for(ops, page, **params), params=form.cleaned_data if form else {})
    for table in result.tables:
        export = report(ops, slug, export=table.key, **params)
        assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")


def _scope_for(user, page, **data):
    from django.test import RequestFactory

    from sdrops.api.scope import ReportFilterSet

    request = RequestFactory().get("/")
    request.user = user.user
    filterset = ReportFilterSet(data, request=request, page=page)
    assert filterset.is_valid()
    return filterset.scope(user=user.user, segment_filters_reps=page.segment_filters_reps)


def test_funnel_targets_admin_adds_no_query_to_admin_pages(client, ops, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(ops.user)
    client.get("/admin/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/").status_code == 200
    assert not any("reporting_funneltargets" in q["sql"] for q in captured.captured_queries)
    assert client.get("/admin/reporting/funneltargets/1/change/").status_code == 200


@pytest.mark.parametrize("bad", [{"team": "99999999999999999999999"}, {"rep": "-1"}, {"segment": "galactic"},
                                 {"lead_type": "psychic"}, {"type": "telepathy"}, {"date_to": "2026-02-30"}])
def test_malformed_filters_are_refused_never_a_500(report, manager, bad):
    slug = "activity" if "type" in bad else "lead-response"
    response = report(manager, slug, **bad)
    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()
