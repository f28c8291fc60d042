"""Each role's home, the grouped navigation and the header search, as the users see them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.leads.models import LeadCycle
from apps.meetings.tests.factories import MeetingFactory
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory
from apps.routing.models import ReturnReason, RoutingDecision
from apps.routing.services import return_file
from apps.workspace.records import account_record, contact_record
from sdrops import config_cache, kept_sql
from sdrops.access import scope_key

pytestmark = pytest.mark.django_db


def _home(client, rep):
    client.force_login(rep.user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def _nav_groups(html):
    return re.findall(r'<details class="workspace-group" id="nav-(\w+)">', html)


@pytest.fixture
def world(sdr, other_sdr, ae, manager):
    mine = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=mine, to_rep=sdr, reason="manual")
    theirs = AccountFactory(name="Initrode", domain="initrode.com")
    account_set_owner(account=theirs, to_rep=other_sdr, reason="manual")
    peter = ContactFactory(account=mine, first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    ContactFactory(account=theirs, first_name="Bill", last_name="Lumbergh", email="bill@initrode.com")
    now = timezone.now()
    LeadCycle.objects.create(contact=peter, number=1, rep=sdr, assigned_at=now - dt.timedelta(hours=3),
                             sla_target_at=now - dt.timedelta(hours=2), sla_maximum_at=now - dt.timedelta(hours=1))
    MeetingFactory(contact=peter, sdr=sdr, ae=ae, scheduled_at=now + dt.timedelta(days=1))
    spare = AccountFactory(name="Penetrode", domain="penetrode.com")
    account_set_owner(account=spare, to_rep=sdr, reason="manual")
    return_file(account=spare, rep=sdr, reason=ReturnReason.OUT_OF_BUSINESS, actor=sdr.user)
    return {"mine": mine, "theirs": theirs, "peter": peter}


def test_sdr_home_shows_their_day(client, sdr, world):
    html = _home(client, sdr)
    assert "Your day" in html
    assert 'id="home-steps"' in html and 'id="home-untouched"' in html
    untouched = html[html.index('id="home-untouched"'):html.index('id="home-prepare"')]
    assert "Peter Gibbons" in untouched
    prepare = html[html.index('id="home-prepare"'):html.index('id="home-returns"')]
    assert "Peter Gibbons" in prepare and "Abe Closer (AE)" in prepare
    returns = html[html.index('id="home-returns"'):html.index('id="home-book"')]
    assert "Penetrode" in returns and "Pending review" in returns
    assert 'id="meetings-panel"' in html
    assert "Initrode" not in html
    assert _nav_groups(html) == ["work", "books", "leads", "meetings", "reports", "setup"]
    setup = html[html.index('id="nav-setup"'):html.index('id="header-search"')]
    assert "ICPs" in setup  # read-only for SDRs
    for hidden in ("Background jobs", "Integrations", "Users", "Rules of engagement"):
        assert hidden not in setup


def test_ae_home_lists_upcoming_meetings_and_pipeline(client, ae, world):
    html = _home(client, ae)
    assert "Your meetings" in html and "My meetings to disposition" in html
    upcoming = html[html.index('id="home-upcoming"'):html.index('id="home-opportunities"')]
    assert "Peter Gibbons" in upcoming and "Sam Seller (SDR)" in upcoming
    assert "Setup" not in _nav_groups(html)


def test_manager_home_has_headline_escalations_reviews_and_absences(client, manager, sdr, world):
    Rep.objects.filter(pk=sdr.pk).update(out_of_office_from=timezone.localdate())
    html = _home(client, manager)
    assert "Your team" in html and "leads assigned" in html
    reviews = html[html.index('id="home-reviews"'):html.index('id="home-away"')]
    assert "Penetrode" in reviews and "Review" in reviews
    assert "Sam Seller" in html[html.index('id="home-away"'):]
    assert 'id="report-links"' in html
    assert "reports" in _nav_groups(html)


def test_ops_home_has_the_unmatched_queue_and_data_quality(client, ops, world):
    stray = ContactFactory(account=None, first_name="Nora", last_name="Nomatch", email="nora@nowhere.example")
    RoutingDecision.objects.create(contact=stray, outcome=RoutingDecision.Outcome.UNMATCHED, explanation="no account")
    html = _home(client, ops)
    assert "Operations" in html
    assert "Nora" in html[html.index('id="home-unmatched"'):html.index('id="home-imports"')]
    assert "Data quality" in html and "Accounts without a domain" in html
    assert _nav_groups(html) == ["work", "books", "leads", "meetings", "reports", "setup"]
    assert "Background jobs" in html


def test_search_finds_by_name_domain_and_email_within_scope(client, sdr, ops, world):
    client.force_login(sdr.user)
    by_name = client.get("/admin/search/", {"q": "initech"}).content.decode()
    assert "Initech" in by_name and "Initrode" not in by_name
    by_email = client.get("/admin/search/", {"q": "peter@initech.com"}).content.decode()
    assert "Peter" in by_email and 'id="search-leads"' in by_email
    hidden = client.get("/admin/search/", {"q": "Lumbergh"}).content.decode()
    assert "Nothing in your scope matches" in hidden  # another rep's contact: same as missing
    by_domain = client.get("/admin/search/", {"q": "https://www.initech.com/about"}).content.decode()
    assert "Initech" in by_domain
    client.force_login(ops.user)
    everything = client.get("/admin/search/", {"q": "init"}).content.decode()
    assert "Initech" in everything and "Initrode" in everything


def test_search_reads_only_its_columns_in_one_query_per_table(client, ops, world):
    """The search selector loads only the columns the page shows (speed): nothing the page
    writes may need another column, or each row would load it with a query of its own."""
    for n in range(3):
        contact = ContactFactory(account=world["mine"], first_name=f"Peta{n}", last_name="Initech", title="CTO",
                                 email=f"peta{n}@initech.com")
        LeadCycle.objects.create(contact=contact, number=1, rep=world["mine"].owner, assigned_at=timezone.now())
    client.force_login(ops.user)

    def search(q):
        client.get("/admin/search/", {"q": q})
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/admin/search/", {"q": q}).content.decode()
        return html, [q["sql"] for q in queries.captured_queries]

    html, many = search("initech")
    one = search("peta0")[1]
    assert len(many) == len(one), many  # one account, four contacts, four leads: no query per row
    assert html.count("Initech</a>") >= 1 and html.count("@initech.com</a>") >= 4 and "CTO" in html
    assert "Sam Seller" in html[html.index('id="search-leads"'):]  # the lead's rep, read with the lead


def test_homes_run_a_bounded_number_of_queries(client, sdr, ae, manager, ops, world, django_assert_max_num_queries):
    for rep in (sdr, ae, manager, ops):
        client.force_login(rep.user)
        client.get("/admin/")
        with django_assert_max_num_queries(45):
            assert client.get("/admin/").status_code == 200


def test_account_record_reads_like_a_record_within_scope(client, sdr, ae, world):
    from apps.accounts.tests.factories import ActivityFactory

    ActivityFactory(account=world["mine"], rep=sdr, contact=world["peter"], subject="Intro call")
    client.force_login(sdr.user)
    html = client.get(f"/admin/accounts/account/{world['mine'].pk}/record/").content.decode()
    header = html[html.index('id="record-header"'):html.index('id="record-score-explanation"')]
    assert "Initech" in header and "Sam Seller" in header and "Tier" in header and "ICP quadrant" in header
    assert "Coverage × engagement" in header and "Market segment" in header  # named apart from the ICP quadrant
    assert "Return or swap" in header and f"/admin/accounts/account/{world['mine'].pk}/change/" in header
    contacts = html[html.index('id="record-contacts"'):html.index('id="record-timeline"')]
    assert "Peter" in contacts and 'href="mailto:peter@initech.com"' in contacts and "Book meeting" in contacts
    timeline = html[html.index('id="record-timeline"'):]
    for words in ("Intro call", "Lead cycle 1: Peter Gibbons", "Initial qualifying meeting with Peter Gibbons",
                  "Owner: pool → Sam Seller"):
        assert words in timeline, words
    assert client.get(f"/admin/accounts/account/{world['theirs'].pk}/record/").status_code == 404


def test_contact_record_has_tel_mailto_linkedin_and_timeline(client, sdr, other_sdr, world):
    from apps.people.models import Contact

    Contact.objects.filter(pk=world["peter"].pk).update(phone="+14155550123", linkedin_url="https://www.linkedin.com/in/peter")
    client.force_login(sdr.user)
    html = client.get(f"/admin/people/contact/{world['peter'].pk}/record/").content.decode()
    assert 'href="tel:+14155550123">+1 415-555-0123</a>' in html
    assert 'href="mailto:peter@initech.com"' in html and 'href="https://www.linkedin.com/in/peter"' in html
    timeline = html[html.index('id="record-timeline"'):]
    assert "Lead cycle 1 assigned to Sam Seller" in timeline and "Initial qualifying meeting with Abe Closer" in timeline
    assert "Book meeting" in html and "Edit" in html
    bill = Contact.objects.get(email="bill@initrode.com")
    assert client.get(f"/admin/people/contact/{bill.pk}/record/").status_code == 404


def test_record_reads_kept_per_scope_equal_the_querysets_and_follow_a_scope_change(client, ops, manager, sdr, other_sdr,
                                                                                     ae, world, monkeypatch):
    """The record pages' scoped reads run SQL kept per configuration version and scope
    (sdrops.kept_sql, scope_key): for every role they read what the querysets built afresh read,
    and a manager who loses a team member loses that member's records at once."""
    def item(value):
        if hasattr(value, "pk"):
            return (type(value).__name__, value.pk, str(value))
        if hasattr(value, "kind"):  # a timeline event
            return (value.at, value.kind, value.title, value.detail, value.url)
        return value

    def summary(record):
        return {key: [item(v) for v in value] if isinstance(value, list) else item(value)
                for key, value in record.items() if key not in ("coverage", "market", "explanation")}

    def reads(rep):
        out = {}
        for name, fn, pk in (("account", account_record, world["mine"].pk), ("contact", contact_record, world["peter"].pk)):
            try:
                out[name] = summary(fn(user=rep.user, **{f"{name}_id": pk}))
            except Http404:
                out[name] = 404
        return out

    config_cache.clear()
    with config_cache.checked(config_cache.version_read()):
        kept = {rep.user.username: reads(rep) for rep in (ops, manager, sdr, other_sdr, ae)}
        assert [key for key in config_cache._entries if key[0] == "kept_sql" and key[1][0] == "records"
                and config_cache._entries[key][1] is kept_sql._NOT_KEPT] == []
    with monkeypatch.context() as patched:
        patched.setattr(kept_sql, "_keep", lambda build, values: None)
        afresh = {rep.user.username: reads(rep) for rep in (ops, manager, sdr, other_sdr, ae)}
    assert kept == afresh
    assert kept["olga"] == {"account": 404, "contact": 404} and kept["mona"]["account"] != 404
    assert len(kept["sam"]["account"]["events"]) >= 3  # the lead cycle, the meeting, the ownership change
    # Sam moves to the other team: the manager's scope (and key) change, the kept reads with it.
    before = scope_key(user=manager.user)
    Rep.objects.filter(pk=sdr.pk).update(team=other_sdr.team, manager=None)
    with config_cache.checked(config_cache.version_read()):
        assert scope_key(user=manager.user) != before
        with pytest.raises(Http404):
            account_record(user=manager.user, account_id=world["mine"].pk)
