"""The workspace in a real browser: the New York SDR → London AE → Denver manager meeting,
each role's home, the header search and the account record page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.meetings.defaults import meetings_defaults_ensure
from apps.meetings.models import Meeting
from apps.meetings.tasks import remind_ended_meetings
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The meeting: 2026-12-01 15:00 in New York = 20:00 in London = 13:00 in Denver.
START_UTC = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)


@pytest.fixture
def pod(sdr, ae, manager):
    meetings_defaults_ensure()  # the flushed database lost the data migration's stages
    Rep.objects.filter(pk=sdr.pk).update(time_zone="America/New_York")
    Rep.objects.filter(pk=ae.pk).update(time_zone="Europe/London")
    Rep.objects.filter(pk=manager.pk).update(time_zone="America/Denver")
    sdr.ae_partners.add(ae)
    account = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    contact = ContactFactory(account=account, first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    return {"account": account, "contact": contact}


def test_new_york_sdr_london_ae_denver_manager_read_one_meeting_on_their_own_clocks(page, login, pod):
    contact = pod["contact"]
    with time_machine.travel(dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC), tick=True):
        login("sam")
        page.goto(f"/admin/meetings/meeting/book/{contact.pk}/")
        assert "EST (America/New_York)" in page.inner_text("#content")  # next to the field
        page.fill("#id_scheduled_at", "2026-12-01T15:00")
        page.click("input[name=_book]")
        page.wait_for_selector(".messagelist .success")
        assert "2026-12-01 15:00 EST" in page.inner_text(".messagelist")
        meeting = Meeting.objects.get()
        assert meeting.scheduled_at == START_UTC
        page.goto(f"/admin/meetings/meeting/{meeting.pk}/change/")
        assert "15:00 EST" in page.inner_text("#content")

        login("abe")  # London: the AE's home lists it as upcoming at 20:00 GMT
        assert page.inner_text("#home-upcoming .meeting-when") == "2026-12-01 20:00 GMT"

        login("mona")  # Denver
        page.goto(f"/admin/meetings/meeting/{meeting.pk}/change/")
        assert "13:00 MST" in page.inner_text("#content")

    with time_machine.travel(meeting.scheduled_end_at + dt.timedelta(minutes=5), tick=True):
        mail.outbox.clear()
        remind_ended_meetings()
        [reminder] = mail.outbox
        assert reminder.to == [meeting.ae.user.email] and "2026-12-01 20:00 GMT" in reminder.body

        login("abe")
        panel = page.locator("#meetings-panel")
        assert "20:00 GMT" in panel.inner_text()
        panel.locator("a.meeting-disposition").click()
        page.wait_for_selector("#id_notes")
        assert "2026-12-01 20:00 GMT" in page.inner_text("#content")


def test_each_role_lands_on_their_home(page, login, pod, ae, ops):
    login("sam")
    assert page.inner_text("#content h1") == "Your day"
    for box in ("#home-steps", "#home-untouched", "#home-prepare", "#home-returns", "#home-book"):
        assert page.locator(box).is_visible(), box
    page.click("#nav-books summary")
    # The open menu is readable: its links are not the header's white on the menu's white.
    link = page.locator("#nav-books a:has-text('Accounts')")
    color = link.evaluate("a => getComputedStyle(a).color")
    assert color != page.locator("#nav-books > ul").evaluate("ul => getComputedStyle(ul).backgroundColor"), color
    link.click()
    page.wait_for_url("**/admin/accounts/account/")
    assert page.inner_text("#content h1") == "Accounts"
    assert "Initech" in page.inner_text("#result_list")

    login("abe")
    assert page.inner_text("#content h1") == "Your meetings"
    assert page.locator("#home-opportunities").is_visible() and page.locator("#meetings-panel").is_visible()

    login("mona")
    assert page.inner_text("#content h1") == "Your team"
    assert "leads assigned" in page.inner_text("#home-headline")
    assert page.locator("#home-reviews").is_visible() and page.locator("#home-away").is_visible()

    login("opal")
    assert page.inner_text("#content h1") == "Operations"
    assert page.locator("#home-unmatched").is_visible() and page.locator("#home-quality").is_visible()
    page.click("#nav-setup summary")
    assert page.locator("#nav-setup a:has-text('Background jobs')").is_visible()


def test_header_search_finds_the_account_and_opens_its_record(page, login, pod, other_sdr):
    hidden = AccountFactory(name="Initrode", domain="initrode.com")
    account_set_owner(account=hidden, to_rep=other_sdr, reason="manual")
    login("sam")
    page.fill("#header-search-q", "init")
    page.press("#header-search-q", "Enter")
    page.wait_for_selector("#search-accounts")
    results = page.inner_text("#search-accounts")
    assert "Initech" in results and "Initrode" not in results  # another rep's book stays hidden
    page.click("#search-accounts a:has-text('Initech')")
    page.wait_for_selector("#record-header")
    assert "Sam Seller" in page.inner_text("#record-header")
    assert page.locator("#record-contacts a[href='mailto:peter@initech.com']").is_visible()
    assert "Owner: pool → Sam Seller" in page.inner_text("#record-timeline")
    page.click("#record-header a:has-text('Edit')")
    page.wait_for_url(f"**/admin/accounts/account/{pod['account'].pk}/change/")
