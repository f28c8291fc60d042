"""The per-person engagement score, with hand-worked numbers (apps/campaigns/engagement.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.accounts.models import Activity, ActivityType
from apps.campaigns.engagement import contact_engagement
from apps.campaigns.models import CampaignInteraction
from apps.campaigns.tests.factories import CampaignFactory
from apps.icps.tests.factories import SignalFactory
from apps.meetings.models import Meeting
from apps.meetings.tests.factories import MeetingFactory
from apps.people.tests.factories import ContactFactory

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def held(contact, sdr, at, status):
    return MeetingFactory(contact=contact, sdr=sdr, scheduled_at=at, status=status, dispositioned_at=at + dt.timedelta(hours=1))


@pytest.mark.django_db
def test_hand_worked_scores_in_one_statement(django_assert_num_queries, sdr):
    engaged, quiet, capped = ContactFactory(), ContactFactory(), ContactFactory()
    campaign = CampaignFactory()
    # engaged: demo request 10 days ago (20), reply 40 days ago (24 / 2 = 12), a meeting held 5 days
    # ago (30), a no-show 60 days ago (-10 / 2 = -5), a signal on the account 100 days ago (too old: 0),
    # a reply 91 days ago (too old), the rep's own call yesterday (never counts) → 20 + 12 + 30 - 5 = 57.
    CampaignInteraction.objects.create(campaign=campaign, contact=engaged, occurred_at=days_ago(10))
    Activity.objects.create(type=ActivityType.EMAIL_REPLY, contact=engaged, account=engaged.account, occurred_at=days_ago(40))
    Activity.objects.create(type=ActivityType.EMAIL_REPLY, contact=engaged, account=engaged.account, occurred_at=days_ago(91))
    Activity.objects.create(type=ActivityType.CALL, contact=engaged, account=engaged.account, rep=sdr, occurred_at=days_ago(1))
    held(engaged, sdr, days_ago(5), Meeting.Status.COMPLETED_QUALIFIED)
    held(engaged, sdr, days_ago(60), Meeting.Status.NO_SHOW)
    SignalFactory(account=engaged.account, occurred_at=days_ago(100))
    # quiet: only a no-show 3 days ago → -10, kept at 0.
    held(quiet, sdr, days_ago(3), Meeting.Status.NO_SHOW)
    # capped: 3 meetings held (90) + a meeting booked next week (16, counts as recent) + 2 recent signals (20) = 126 → 100.
    for days in (2, 4, 6):
        held(capped, sdr, days_ago(days), Meeting.Status.COMPLETED_UNQUALIFIED)
    MeetingFactory(contact=capped, sdr=sdr, scheduled_at=NOW + dt.timedelta(days=7))
    SignalFactory(account=capped.account, occurred_at=days_ago(1))
    SignalFactory(account=capped.account, occurred_at=days_ago(29))

    with django_assert_num_queries(1):
        scores = contact_engagement(contact_ids=[engaged.pk, quiet.pk, capped.pk], now=NOW)
    assert scores[engaged.pk].score == 57
    assert [(p.kind, p.recent, p.older, p.points) for p in scores[engaged.pk].parts] == [
        ("campaign", 1, 0, 20), ("reply", 0, 1, 12), ("meeting_held", 1, 0, 30), ("no_show", 0, 1, -5),
    ]
    assert scores[quiet.pk].score == 0 and [p.points for p in scores[quiet.pk].parts] == [-10]
    assert scores[capped.pk].score == 100
    assert sum(p.points for p in scores[capped.pk].parts) == 90 + 16 + 20


@pytest.mark.django_db
def test_the_lead_page_shows_the_score_with_its_parts_and_definition(client, ops):
    contact = ContactFactory()
    CampaignInteraction.objects.create(campaign=CampaignFactory(), contact=contact)
    client.force_login(ops.user)
    page = client.get(reverse("admin:cadences_lead_page", args=[contact.pk])).content.decode()
    assert 'id="engagement-score">20</span> / 100' in page
    assert "Arrived through a campaign" in page and "the rep’s own outreach never counts" in page
    assert "fit 0 / 40" in page
