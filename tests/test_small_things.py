"""Small things users notice (issue 17, item 5)."""

import pytest

pytestmark = pytest.mark.django_db


def test_redoc_is_gone_and_swagger_ui_stays(client, ops):
    client.force_login(ops.user)
    assert client.get("/api/redoc/").status_code == 404
    assert client.get("/api/docs/").status_code == 200


def test_return_form_has_no_default_reason(client, sdr):
    from apps.accounts.services import account_set_owner
    from apps.accounts.tests.factories import AccountFactory

    account = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    client.force_login(sdr.user)
    url = f"/admin/routing/returnrequest/file/{account.pk}/"
    page = client.get(url).content.decode()
    assert '<option value="" selected>Choose the reason…</option>' in page
    response = client.post(url, {"note": "x"})
    assert "Choose why you are returning the account." in response.content.decode()


def test_jobs_page_names_clusters_and_shows_last_runs(client, ops):
    from django.utils import timezone
    from django_q.models import Schedule, Success

    task = Success.objects.create(id="abc123", name="alpha-bravo", func="apps.x", started=timezone.now(),
                                  stopped=timezone.now(), success=True)
    Schedule.objects.create(name="demo schedule", func="apps.x", schedule_type="I", minutes=5, task=task.id)
    client.force_login(ops.user)
    page = client.get("/admin/jobs/").content.decode()
    assert "<th>Last run</th>" in page
    row = page[page.index("demo schedule"):]
    assert " · ok" in row[:row.index("</tr>")]


def test_money_reads_with_separators_and_currency():
    from decimal import Decimal

    from apps.workspace.money import money

    assert money(Decimal("360000.00")) == "$360,000"
    assert money(Decimal("1250.5")) == "$1,250.50"
    assert money(None) == "—"


def test_distribution_preview_warns_when_a_book_ends_above_capacity(client, ops, sdr):
    from apps.routing.models import Distribution

    distribution = Distribution.objects.create(summary=[
        {"rep_id": sdr.pk, "rep": "Sam Seller", "segment": "mid_market", "capacity": 120, "book_before": 100,
         "adds": 63, "tiers": {"A": 3}, "book_after": 163, "average_score": 55.0},
    ])
    client.force_login(ops.user)
    page = client.get(f"/admin/routing/distribution/{distribution.pk}/preview/").content.decode()
    assert "Above capacity after this distribution: Sam Seller (163 of 120)." in page
    assert "43 over capacity" in page
    assert "<td>Mid-Market</td>" in page  # the label, not mid_market


def test_lists_are_titled_by_what_they_list(client, ops, ae):
    """Not Django's "Select account to change" / "Select meeting to view" on every list."""
    import re

    client.force_login(ops.user)
    for url, name in (("/admin/accounts/account/", "Accounts"), ("/admin/people/contact/", "Contacts"),
                      ("/admin/routing/routingdecision/?queue=open", "Routing decisions")):
        page = client.get(url).content.decode()
        assert f"<h1>{name}</h1>" in page, url
        assert re.search(rf"<title>{name} \| sdrops</title>", page), url
        assert "Select " not in page.split("<h1>")[1].split("</h1>")[0]
    client.force_login(ae.user)
    assert "<h1>Meetings</h1>" in client.get("/admin/meetings/meeting/").content.decode()
    # A picker opened from a form keeps its "Select …" wording: it asks the user to pick one.
    client.force_login(ops.user)
    assert "<h1>Select account</h1>" in client.get("/admin/accounts/account/?_popup=1&_to_field=id").content.decode()
