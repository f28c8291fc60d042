"""The hold on the campaign page's similar cohort (reporting_campaigntouch / _campaigntouchday:
the cycles whose contact interacted with each campaign) and the nurture page's recycled leads
read from their partial indexes: after the writes they follow, the kept rows equal a rebuild
and both pages equal the computation from history for ops, a manager (New York) and an SDR."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from apps.campaigns.models import Campaign, CampaignInteraction, NurtureEntry, NurtureProgram
from apps.campaigns.nurture_report import in_nurture_rows
from apps.leads.models import ExceptionReason, LeadCycle
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.meetings.models import Meeting, Opportunity, OpportunityStage
from apps.people.timezones import user_zone
from apps.reporting.reports import REPORTS
from apps.reporting.rollup_reads import from_history
from apps.reporting.rollups import rollups_check
from apps.reporting.tests.conftest import make_cycle, make_meeting, make_opportunity
from apps.reporting.tests.test_rollups import NOW, WINDOWS, at, history, page_cells  # noqa: F401  (the fixture)
from sdrops.api.scope import ReportFilterSet

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
US = dt.timedelta(microseconds=1)


@pytest.fixture
def touched(history, ae, tia):  # noqa: F811  (the imported fixture)
    """Contacts of cycles without the campaign interact with it (with and without a cycle), are
    moved, re-typed, won, marked an exception and deleted; a contact's cycle 0 ends in nurture."""
    webinar, show = Campaign.objects.get(name="Spring webinar"), Campaign.objects.get(name="Trade show")
    plain = list(LeadCycle.objects.filter(exception_at__isnull=True, rep__isnull=False)
                 .exclude(campaign_record_id=webinar.pk).order_by("pk"))
    assert len(plain) >= 9
    CampaignInteraction.objects.create(campaign=webinar, contact=plain[0].contact, occurred_at=at(3))
    extra = CampaignInteraction.objects.bulk_create([
        CampaignInteraction(campaign=show, contact=plain[n].contact, occurred_at=at(4)) for n in (1, 2, 3)]
        + [CampaignInteraction(campaign=webinar, contact=plain[n].contact, occurred_at=at(4)) for n in (4, 5, 6, 7)])
    CampaignInteraction.objects.filter(pk=extra[1].pk).delete()  # the contact no longer interacted with it
    CampaignInteraction.objects.filter(pk=extra[2].pk).update(contact=plain[8].contact)  # logged against another
    LeadCycle.objects.filter(pk=plain[4].pk).update(assigned_at=at(11, 23), lead_type="outbound", source="event")
    LeadCycle.objects.filter(pk=plain[5].pk).update(contact=plain[0].contact, number=9)  # moved to another contact
    deal = make_opportunity(account=plain[6].contact.account, owner=ae, sourcing_sdr=plain[6].rep, stage="closed_won",
                            amount=4000, created_at=at(9), pipeline_at=at(10))
    make_meeting(sdr=plain[6].rep, ae=ae, scheduled_at=plain[6].assigned_at + 24 * H, cycle=plain[6],
                 status="completed_qualified", opportunity=deal)  # a touched cycle qualified and won
    Opportunity.objects.filter(pk=deal.pk).update(stage=OpportunityStage.objects.get(code="closed_lost"))  # then lost
    Opportunity.objects.filter(pk=deal.pk).update(stage=OpportunityStage.objects.get(code="closed_won"))  # won again
    reason = ExceptionReason.objects.first()
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=plain[0].pk), reason=reason, actor=history["ops"], at=NOW)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=plain[8].pk), reason=reason, actor=history["ops"], at=NOW)
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=plain[8].pk), actor=history["ops"], at=NOW)
    LeadCycle.objects.filter(pk=plain[7].pk).delete()
    Meeting.objects.filter(contact=plain[3].contact).delete()
    plain[3].contact.delete()  # its interactions and cycles go with it
    # Recycled after a cycle 0 (the column allows it): the nurture page's second slice.
    zero = make_cycle(history["sdr"], at(1, 5), touch=at(1, 6), done=at(2, 7), disposition="nurture", number=0)
    make_cycle(history["sdr"], at(12, 3), contact=zero.contact, number=1, source="event")
    # Opportunities several cycles of one campaign came to (counted once per campaign, whoever's
    # cycles they are and wherever they fall in a window), then re-priced, won, unlinked.
    account = plain[1].contact.account
    shared = [make_opportunity(account=account, owner=ae, sourcing_sdr=history["sdr"], stage=stage, amount=amount,
                               created_at=at(5), pipeline_at=at(6)) for stage, amount in (("closed_won", 2500), ("pipeline", None),
                                                                                          ("pipeline", 800))]
    for n, (rep, assigned) in enumerate([(history["sdr"], at(5, 23)), (tia, at(9, 4)), (history["sdr"], at(1, 2)),
                                         (tia, at(19, 3)), (history["sdr"], at(11, 0))]):
        cycle = make_cycle(rep, assigned, touch=assigned + H, campaign="Spring webinar",
                           lead_type=["inbound", "outbound"][n % 2])
        for deal in (shared[n % 2], shared[2]) if n < 3 else (shared[n % 3],):
            make_meeting(sdr=rep, ae=ae, scheduled_at=assigned + 24 * H, cycle=cycle, status="completed_qualified",
                         opportunity=deal)
    Opportunity.objects.filter(pk=shared[0].pk).update(amount=3000)
    Opportunity.objects.filter(pk=shared[1].pk).update(stage=OpportunityStage.objects.get(code="closed_won"))
    Meeting.objects.filter(opportunity=shared[2], lead_cycle__assigned_at=at(9, 4)).update(opportunity=None)
    # In nurture now around every cut-off the page classes by: each age band's edge (now − 30,
    # 90, 180 days) and now itself, a microsecond either side, within its UTC day; recycle dates
    # around now + 30 days; an odd and an even count per reason for the median.
    program = NurtureProgram.objects.create(name="Cut-off program", recycle_after_days=30)
    reps = [history["sdr"], tia, None]
    for n, (days, shift) in enumerate([(30, 0), (30, 1), (30, -1), (90, 0), (90, -1), (180, 1), (180, 0), (0, -1),
                                       (0, 1), (45, 0), (200, 0), (12, 0), (89, 5)]):
        done = NOW - days * D + shift * US
        rep = reps[n % 3] or tia
        cycle = make_cycle(rep, done - 2 * H, touch=done - H, done=done, disposition="nurture",
                           lead_type=["inbound", "outbound"][n % 2])
        LeadCycle.objects.filter(pk=cycle.pk).update(disposition_reason=["Edge A", "Edge B"][n % 2])
        if n % 3:
            NurtureEntry.objects.create(cycle=cycle, contact=cycle.contact, program=program, reason_label="x",
                                        entered_at=done, recycle_due_at=NOW + 30 * D + (n - 6) * US * 1000 * (1 if n % 2 else -1))
    return history


@time_machine.travel(NOW, tick=False)
def test_touches_and_recycled_equal_the_computation_from_history(touched):
    assert rollups_check() == []
    with connection.cursor() as cursor:  # contacts that interacted with a campaign they did not arrive with
        cursor.execute("SELECT count(*) FROM reporting_campaigntouch t JOIN people_leadcycle c ON c.id = t.cycle_id "
                       "WHERE c.campaign_record_id IS DISTINCT FROM t.campaign_id")
        assert cursor.fetchone()[0] >= 3
        cursor.execute("SELECT count(DISTINCT opportunity_id) FROM reporting_campaignopp WHERE shared")
        assert cursor.fetchone()[0] >= 2  # opportunities several cycles of a campaign came to
    shown = recycled = nurtured = 0
    for who in ("ops", "manager", "sdr"):
        for window in WINDOWS:
            query = {k: v for k, v in window.items() if k in ("date_from", "date_to", "lead_type")}
            for slug in ("campaigns", "nurture"):
                kept = page_cells(touched[who].user, slug, **query)
                with from_history():
                    assert kept == page_cells(touched[who].user, slug, **query), (who, slug, query)
                if slug == "campaigns":
                    shown += len(kept["tables"]["vs-similar"][1])
                else:
                    recycled += len(kept["tables"]["recycled"][1])
                    nurtured += len(kept["tables"]["in-nurture"][1])
    assert shown > 0 and recycled > 0 and nurtured > 0


def scope_of(user, slug: str, **query):
    """The scope a page computes with (as page_cells builds it)."""
    report = REPORTS[slug]
    request = RequestFactory().get("/", query)
    request.user = user
    filterset = ReportFilterSet(request.GET, request=request, page=report)
    assert filterset.is_valid()
    return filterset.scope(user=user, segment_filters_reps=report.segment_filters_reps)


@time_machine.travel(NOW, tick=False)
def test_in_nurture_rows_equal_history_to_the_last_bit(touched):
    """The page shows the median to 0.1 day: compare the rows themselves (floats exactly)."""
    compared = 0
    for who in ("ops", "manager", "sdr"):
        user = touched[who].user
        for query in ({}, {"lead_type": "outbound"}):
            with timezone.override(user_zone(user)):
                scope = scope_of(user, "nurture", **WINDOWS[0], **query)
                kept = in_nurture_rows(scope=scope)
                with from_history():
                    assert kept == in_nurture_rows(scope=scope), (who, query)
            compared += len(kept)
    assert compared > 6


@time_machine.travel(NOW, tick=False)
def test_broken_touch_and_nurture_rollups_are_reported_and_rebuilt(touched):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE reporting_campaigntouch SET is_sql = NOT is_sql WHERE id = (SELECT min(id) FROM reporting_campaigntouch)")
        cursor.execute("UPDATE reporting_campaigntouchday SET leads = leads + 1 WHERE id = (SELECT min(id) FROM reporting_campaigntouchday)")
        cursor.execute("UPDATE reporting_campaignopp SET shared = NOT shared WHERE id = (SELECT min(id) FROM reporting_campaignopp)")
        cursor.execute("UPDATE reporting_campaignoppday SET won = won + 1 WHERE id = (SELECT min(id) FROM reporting_campaignoppday)")
        cursor.execute("UPDATE reporting_nurtureday SET leads = leads + 1 WHERE id = (SELECT min(id) FROM reporting_nurtureday)")
        cursor.execute("DELETE FROM reporting_nurturedueday WHERE id = (SELECT min(id) FROM reporting_nurturedueday WHERE leads <> 0)")
    assert {d.table for d in rollups_check()} == {"campaign touches", "campaign touches per day", "nurture per day",
                                                  "nurture due per day", "campaign opportunities",
                                                  "campaign opportunities per day"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporting_campaigntouches_rebuild(), reporting_nurturedays_rebuild(), "
                       "reporting_campaignopps_rebuild()")
    assert rollups_check() == []
