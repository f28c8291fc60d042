"""Open opportunities and scheduled meetings in routing (issue 5's selectors): inbound
precedence and the retrieval exemption."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from apps.accounts.services import account_set_owner
from apps.meetings.models import Meeting
from apps.meetings.selectors import stage_by_code
from apps.meetings.services import meeting_book, meeting_cancel, opportunity_create, opportunity_stage_set
from apps.people.models import Contact
from apps.people.tests.factories import ContactFactory
from apps.routing import selectors
from apps.routing.services import lead_route, retrieval_run
from apps.routing.tests.factories import ScoredAccountFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def test_inbound_lead_goes_to_the_open_opportunitys_owner_first(pod):
    account = ScoredAccountFactory(domain="initech.com")
    account_set_owner(account=account, to_rep=pod["sdr"], reason="manual")
    opportunity = opportunity_create(account=account, owner=pod["smb_ae"], sourcing_sdr=pod["sdr"], actor=None)
    assert selectors.account_open_opportunity_owner(account=account) == pod["smb_ae"]
    assert list(selectors.accounts_with_open_opportunity()) == [account]
    decision = lead_route(contact=ContactFactory(email="new@initech.com", account=None, source=Contact.Source.INBOUND))
    assert decision.rep == pod["smb_ae"]
    opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_lost"), actor=None,
                          closed_lost_reason="timing")
    assert selectors.account_open_opportunity_owner(account=account) is None
    decision = lead_route(contact=ContactFactory(email="next@initech.com", account=None, source=Contact.Source.INBOUND))
    assert decision.rep == pod["sdr"]


def test_open_opportunity_and_scheduled_meeting_protect_from_retrieval(pod):
    sdr = pod["sdr"]
    with time_machine.travel(T0, tick=False):
        with_opportunity, with_meeting, with_cancelled, idle = (ScoredAccountFactory() for _ in range(4))
        for account in (with_opportunity, with_meeting, with_cancelled, idle):
            account_set_owner(account=account, to_rep=sdr, reason="distribution")
        opportunity_create(account=with_opportunity, owner=pod["ae"], sourcing_sdr=sdr, actor=None)
        start = T0 + dt.timedelta(days=40)
        meeting_book(contact=ContactFactory(account=with_meeting), sdr=sdr, actor=None, scheduled_at=start)
        cancelled = meeting_book(contact=ContactFactory(account=with_cancelled), sdr=sdr, actor=None,
                                 scheduled_at=start)
        meeting_cancel(meeting=cancelled, actor=sdr.user, cancelled_by=Meeting.CancelledBy.PROSPECT)
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        retrieved = {row.account_id for row in retrieval_run()}
    # 31 days without meaningful work (the bookings were on day 0) for all four; the open
    # opportunity and the meeting still to come protect theirs, a cancelled meeting does not.
    assert retrieved == {idle.pk, with_cancelled.pk}
