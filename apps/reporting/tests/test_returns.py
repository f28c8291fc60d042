from __future__ import annotations

import datetime as dt

import pytest

from apps.reporting.tests.conftest import csv_table, html_table, make_accounts

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}


def at(day, month=3):
    return dt.datetime(2026, month, day, 10, tzinfo=dt.UTC)


def file_return(rep, reason, day, *, status="pending", outcome="", month=3):
    from apps.routing.models import ReturnRequest

    account, = make_accounts(rep, 1)
    return ReturnRequest.objects.create(
        account=account, account_name=account.name, rep=rep, reason=reason, status=status, outcome=outcome,
        created_at=at(day, month), reviewed_at=None if status == "pending" else at(day, month) + dt.timedelta(hours=2),
        get_back_on=dt.date(2026, 6, 1) if reason == "get_back_to_me" else None,
    )


@pytest.fixture
def returns(sdr, tia, other_sdr):
    file_return(sdr, "duplicate", 2, status="approved", outcome="merge")
    file_return(sdr, "not_interested", 3, status="rejected")
    file_return(sdr, "no_icp_fit", 4)
    file_return(sdr, "bad_data", 5, status="approved", outcome="data_fix")
    file_return(sdr, "duplicate", 25, status="approved", outcome="merge", month=2)  # before the period
    file_return(tia, "get_back_to_me", 3, status="approved", outcome="rest")
    file_return(other_sdr, "bad_data", 3)  # another team


def test_returns_by_reason_rep_and_week_worked_out(report, manager, returns):
    html = report(manager, "returns", **PERIOD).content.decode()
    by_reason = html_table(html, "by-reason")
    col = {name: i for i, name in enumerate(by_reason[0])}
    keys = ("Returns", "Pending", "Approved", "Rejected", "Approval rate")
    rows = {r[0]: [r[col[k]] for k in keys] for r in by_reason[1:]}
    assert rows == {
        "Bad data": ["1", "0", "1", "0", "100.0%"],
        "Duplicate": ["1", "0", "1", "0", "100.0%"],
        "Get back to me": ["1", "0", "1", "0", "100.0%"],
        "No ICP fit": ["1", "1", "0", "0", "—"],
        "Not interested": ["1", "0", "0", "1", "0.0%"],
        "All": ["5", "1", "3", "1", "75.0%"],
    }
    by_rep = html_table(html, "by-rep")
    rcol = {name: i for i, name in enumerate(by_rep[0])}
    reps = {r[0]: r for r in by_rep[1:]}
    assert [reps["Sam Seller"][rcol[k]] for k in keys] == ["4", "1", "2", "1", "66.7%"]
    assert [reps["Sam Seller"][rcol[k]] for k in ("→ Merge into the duplicate", "→ Data fixing, then back to the pool")] == ["1", "1"]
    assert [reps["Tia Teammate"][rcol[k]] for k in (*keys, "→ Rest, then back to the pool")] == ["1", "0", "1", "0", "100.0%", "1"]
    assert "Olga Other" not in html
    weekly = html_table(html, "weekly")
    assert weekly[1][:2] == ["2026-03-02", "5"]
    assert csv_table(report(manager, "returns", export="by-rep", **PERIOD).content.decode()) == by_rep


@pytest.mark.parametrize("n", [1, 5])
def test_returns_query_count_is_bounded(report, manager, sdr, django_assert_max_num_queries, n):
    for i in range(n):
        file_return(sdr, "bad_data", 2 + i % 5, status="approved", outcome="data_fix")
    report(manager, "returns", **PERIOD)
    with django_assert_max_num_queries(20):
        assert report(manager, "returns", **PERIOD).status_code == 200
