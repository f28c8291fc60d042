"""The hold on the report rollups: every cell of every report page equals the from-scratch
computation over history, after inserts, updates and deletes of everything the rollups
summarise; the kept rollups equal a rebuild; the rebuild command repairs a broken one; each
page runs a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Account, Activity, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.cadences.models import Enrolment, EnrolmentStep
from apps.cadences.tests.factories import cadence_with_steps
from apps.campaigns.models import Campaign, CampaignInteraction, NurtureEntry, NurtureProgram
from apps.icps.tests.factories import ICPFactory
from apps.leads.models import ExceptionReason, LeadCycle, SlaBreach, TeamActivityGoals
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.markets.models import AccountMarket, CoverageSettings, MarketSegmentChange
from apps.meetings.models import Meeting, Opportunity, OpportunityStage
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.people.timezones import user_zone
from apps.reporting.reports import REPORTS
from apps.reporting.rollup_reads import from_history, window_split
from apps.reporting.rollups import rollups_check
from apps.reporting.tests.conftest import make_cycle, make_meeting, make_opportunity
from apps.reporting.views import report_compute
from apps.routing.models import ReturnRequest
from sdrops.api.scope import ReportFilterSet

H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 3, 20, 15, tzinfo=dt.UTC)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def history(sdr, tia, ae, ops, manager):
    """A fortnight of lead cycles, meetings and activities, then changed the ways the app changes
    them: touched, dispositioned, qualified, re-linked, breached, moved and deleted."""
    manager.time_zone = "America/New_York"
    manager.save()
    ops.time_zone = "Asia/Kolkata"  # half-hour midnights: the raw fallback for daily volume
    ops.save()
    other = RepFactory(role=Rep.Role.SDR, owner_name="Olga Other")  # another team: ops only
    cycles = []
    for i, rep in enumerate([sdr, tia, other, None, sdr, tia, sdr, other] * 3):
        day, hour = 2 + i % 14, (i * 5) % 24  # every hour of the day: edges in every zone
        kind = i % 6
        kwargs = {"source": ["inbound", "event", "outbound"][i % 3], "lead_type": ["inbound", "outbound"][i % 2],
                  "campaign": ["Spring webinar", "", "Trade show"][i % 3],
                  "sla_maximum_at": at(day, hour) + 24 * H if i % 4 else None}
        if kind == 0:
            cycle = make_cycle(rep, at(day, hour), **kwargs)  # untouched, open (past its maximum by now)
        elif kind == 1:
            cycle = make_cycle(rep, at(day, hour), touch=at(day, hour) + (30 if i % 5 else 2) * H, **kwargs)
        elif kind == 2:
            cycle = make_cycle(rep, at(day, hour), done=at(day, hour) + 30 * H, disposition="unqualified",
                               bypassed=True, **kwargs)
        else:
            cycle = make_cycle(rep, at(day, hour), touch=at(day, hour) + 3 * H, done=at(day, hour) + 50 * H,
                               disposition=["nurture", "qualified", "unqualified"][i % 3], **kwargs)
        cycles.append(cycle)
    accounts = [AccountFactory(owner=rep, tier="ABC"[n % 3], total_score=30 + n * 7)
                for n, rep in enumerate([sdr, tia, other, sdr, None])]
    icp = ICPFactory()
    for n, (rep, segment, status) in enumerate([(sdr, "smb", "active"), (tia, "enterprise", "customer"),
                                                (None, "smb", "prospect"), (None, "enterprise", "active"),
                                                (None, "mid_market", "disqualified"), (other, "pubsec", "prospect")]):
        AccountFactory(owner=rep, segment=segment, status=status, tier="AB C"[n % 4].strip(), total_score=n * 19,
                       matched_icp=icp if n % 2 else None)
    for n, cycle in enumerate(cycles[:12]):
        if cycle.rep is None:
            continue
        status = ["completed_qualified", "scheduled", "no_show", "completed_qualified"][n % 4]
        opp = None
        if status == "completed_qualified":
            opp = make_opportunity(account=accounts[n % 5], owner=ae, sourcing_sdr=cycle.rep, created_at=at(8),
                                   pipeline_at=at(9) if n % 3 else None)
        make_meeting(sdr=cycle.rep, ae=ae, scheduled_at=cycle.assigned_at + 48 * H, cycle=cycle, status=status,
                     opportunity=opp)
    for n in range(40):
        rep = [sdr, tia, other, sdr][n % 4]
        ActivityFactory(rep=rep, account=accounts[n % 5], type=["intelligence_run", "call", "email", "note", "social"][n % 5],
                        occurred_at=at(2 + n % 14, (n * 7) % 24), automated=n % 9 == 0)

    # Coverage × engagement: contacts in buying roles (and a persona), touches with them (recent
    # or not), an open lead cycle of one of them.
    CoverageSettings.objects.update_or_create(pk=1, defaults={"required_personas": ["Finance"], "min_contacts": 2,
                                                              "engaged_min_touches": 2})
    roles = ["decision_maker", "champion", "influencer", "user"]
    for n, account in enumerate(accounts[:4]):
        people = [ContactFactory(account=account, buying_role=roles[(n + k) % 4], persona="finance" if k == 1 else "IT")
                  for k in range(n + 2)]
        for k in range(2 * n + 1):
            ActivityFactory(rep=account.owner, account=account, contact=people[k % len(people)],
                            type=["call", "email_reply", "note"][k % 3], occurred_at=at(max(1, 18 - 2 * k - (13 if n == 2 else 0)), 9))
        if n % 2:
            make_cycle(account.owner, at(14, 8), touch=at(14, 9), contact=people[0])
    # Opportunities around the February / March boundary (a local month start inside a UTC day
    # in New York and Kolkata), won, lost and open, with and without amounts.
    deals = [make_opportunity(account=accounts[n % 5], owner=ae, sourcing_sdr=[sdr, tia, other][n % 3],
                              stage=["closed_won", "closed_lost", "pipeline", "meeting_completed"][n % 4],
                              amount=None if n % 5 == 4 else 1000 * (n + 1),
                              created_at=dt.datetime(2026, 2, 28, 20, tzinfo=dt.UTC) + n * 3 * H,
                              pipeline_at=at(1 + n % 12, 23) if n % 3 else None)
             for n in range(12)]
    for n, (sourcing, created, pipeline) in enumerate([(None, at(3), at(4, 5)), (None, at(1), None),
                                                       (tia, dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 20, tzinfo=dt.UTC)),
                                                       (sdr, dt.datetime(2026, 1, 28, tzinfo=dt.UTC), dt.datetime(2026, 2, 2, tzinfo=dt.UTC))]):
        # no sourcing SDR (the dashboard's deals count it for ops), and deals of the earlier periods
        make_opportunity(account=accounts[n], owner=ae, sourcing_sdr=sourcing, amount=500 * n or None, created_at=created,
                         pipeline_at=pipeline)
    returns = [ReturnRequest.objects.create(account=accounts[n % 5], account_name="x", rep=[sdr, tia, other][n % 3],
                                            reason=["not_interested", "bad_data", "no_icp_fit", "retrieval"][n % 4],
                                            status=["pending", "approved", "rejected"][n % 3],
                                            outcome="rest" if n % 3 == 1 else "",
                                            created_at=dt.datetime(2026, 3, 1, 22, tzinfo=dt.UTC) + n * 17 * H,
                                            reviewed_at=None if n % 3 == 0 else at(19))
               for n in range(14)]  # Sunday night in UTC: Monday in Kolkata (week starts inside a UTC day)
    cadences = [cadence_with_steps(name="Inbound three", lead_type="inbound"),
                cadence_with_steps(name="Outbound three", lead_type="outbound")]
    outcomes = [["no_response", "positive", "pending"], ["no_response", "not_completed", "no_response"],
                ["negative", "pending", "pending"], ["no_response", "pending", "pending"]]
    states = ["positive", "completed", "negative", "active", "dispositioned", "dispositioned"]
    enrolments = []
    for n, cycle in enumerate(c for c in cycles if c.rep is not None):
        enrolments.append(enrol(cycle, cadences[n % 2], states[n % 6], outcomes[n % 4], hour=(n * 7) % 24))
    loose = enrol(None, cadences[0], "active", outcomes[3], rep=tia, hour=3)  # no lead cycle; its contact goes

    TeamActivityGoals.objects.update_or_create(team=sdr.team, defaults={"inbound_per_day": 4, "outbound_per_day": 9})
    # Touches on the cycles' contacts (the balance page's inbound / outbound split, the handle
    # times' touches): before, during and after each cycle, some automated; then a contact's
    # second cycle (outbound) assigned after some of them, which takes those touches over.
    touches = []
    for n, cycle in enumerate(cycles[:18]):
        for k in range(3):
            touches.append(ActivityFactory(rep=cycle.rep or tia, account=cycle.contact.account, contact=cycle.contact,
                                           type=["call", "email", "note"][k], automated=k == 2 and n % 4 == 0,
                                           occurred_at=cycle.assigned_at + (k * 23 - 4) * H))
    make_cycle(tia, cycles[1].assigned_at + 20 * H, contact=cycles[1].contact, number=2, lead_type="outbound",
               source="outbound", touch=cycles[1].assigned_at + 21 * H, done=cycles[1].assigned_at + 60 * H,
               disposition="unqualified")

    # Leads in nurture (the nurture page's snapshot): program entries, one recycled into a new
    # cycle later (which takes the lead out of nurture), one re-dated, one lead nurtured by hand.
    program = NurtureProgram.objects.create(name="Rollup program", recycle_after_days=30)
    nurtured = [c for c in cycles if c.disposition == "nurture"]
    entries = [NurtureEntry.objects.create(cycle=c, contact=c.contact, program=program, reason_label="x",
                                           entered_at=c.dispositioned_at, recycle_due_at=c.dispositioned_at + (10 + 30 * n) * 24 * H)
               for n, c in enumerate(nurtured)]

    # Changes after the fact, through the ORM as services make them (each fires the triggers).
    EnrolmentStep.objects.filter(enrolment=enrolments[3], position=2).update(outcome="no_response", ended_at=at(15))  # a step done
    Enrolment.objects.filter(pk=enrolments[9].pk).update(state="dispositioned", ended_at=at(16))  # ended mid-way
    Enrolment.objects.filter(pk=enrolments[4].pk).update(enrolled_at=at(13, 22), rep=sdr)  # moved day and rep
    EnrolmentStep.objects.filter(enrolment=enrolments[6], position=3).delete()
    loose.contact.delete()  # the enrolment and its steps go with it (cascade)
    Opportunity.objects.filter(pk=deals[2].pk).update(stage=OpportunityStage.objects.get(code="closed_won"), is_open=False,
                                                      amount=7777, closed_at=at(12))  # won later, new amount
    Opportunity.objects.filter(pk=deals[3].pk).update(pipeline_at=at(14, 1), sourcing_sdr=sdr)  # reached the pipeline
    Opportunity.objects.filter(pk=deals[7].pk).update(created_at=at(2, 4))  # a corrected creation date
    Opportunity.objects.filter(pk=deals[10].pk).delete()
    ReturnRequest.objects.filter(pk=returns[0].pk).update(status="approved", outcome="disqualify",
                                                          reviewed_at=at(18))  # reviewed
    ReturnRequest.objects.filter(pk=returns[4].pk).update(created_at=at(9, 1), rep=tia)  # re-dated, moved
    ReturnRequest.objects.filter(pk=returns[8].pk).delete()
    scheduled = Meeting.objects.filter(status="scheduled").first()
    scheduled.status, scheduled.dispositioned_at = "completed_qualified", scheduled.scheduled_end_at + H
    scheduled.opportunity = make_opportunity(account=accounts[0], owner=ae, sourcing_sdr=scheduled.sdr,
                                             created_at=at(10))
    scheduled.save()
    opp = scheduled.opportunity
    opp.pipeline_at = at(11)
    opp.save()
    Meeting.objects.filter(status="no_show").first().delete()
    Meeting.objects.filter(lead_cycle=cycles[3]).update(lead_cycle=cycles[4])  # moved to another cycle
    moved = Meeting.objects.filter(status="completed_qualified").order_by("pk").first()
    Meeting.objects.filter(pk=moved.pk).update(scheduled_at=at(17, 23), scheduled_end_at=at(18, 0), ae=tia, disposition_late=True)  # rescheduled
    untouched = [c for c in cycles if c.first_touch_at is None and c.dispositioned_at is None]
    SlaBreach.objects.create(cycle=untouched[0], kind=SlaBreach.Kind.MAXIMUM, rep=untouched[0].rep,
                             assigned_at=untouched[0].assigned_at, due_at=untouched[0].assigned_at + 24 * H)
    LeadCycle.objects.filter(pk=untouched[1].pk).update(first_touch_at=untouched[1].assigned_at + 5 * H,
                                                        worked_at=untouched[1].assigned_at + 5 * H, state="working")
    LeadCycle.objects.filter(pk=cycles[7].pk).update(rep=tia, assigned_at=at(12, 23))  # re-assigned, moved day
    CampaignInteraction.objects.filter(lead_cycle=cycles[9]).delete()  # unlinked
    CampaignInteraction.objects.filter(lead_cycle=cycles[12]).update(campaign=Campaign.objects.get(name="Trade show"))
    LeadCycle.objects.filter(pk=cycles[10].pk).delete()
    reason = ExceptionReason.objects.first()
    for cycle in (cycles[5], cycles[13], cycles[14]):  # exceptions: in no number (issue 22)
        lead_cycle_exception_mark(cycle=cycle, reason=reason, actor=manager, at=NOW)
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=cycles[14].pk), actor=manager, at=NOW)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=nurtured[2].pk), reason=reason, actor=ops, at=NOW)
    first = Activity.objects.filter(type="intelligence_run").order_by("occurred_at").first()
    Activity.objects.filter(pk=first.pk).update(occurred_at=at(15, 3))  # research now after the outreach
    Activity.objects.filter(type="email").order_by("pk").first().delete()
    # Market segment changes (rules and by hand) at every hour around local midnights and the
    # Kolkata week start (Sunday night UTC), on accounts that later change owner or are deleted.
    pool_mid = Account.objects.get(segment="mid_market", owner__isnull=True)
    changes = [MarketSegmentChange.objects.create(
        account=[*accounts, pool_mid][n % 6], from_segment=["", "A", "B", "C", "G"][n % 5], to_segment="BCGAD"[n % 5],
        source=["rules", "override", "rules", "override_cleared"][n % 4],
        occurred_at=dt.datetime(2026, 3, 1, 20, tzinfo=dt.UTC) + n * 11 * H) for n in range(40)]
    MarketSegmentChange.objects.filter(pk=changes[3].pk).update(occurred_at=at(8, 23), to_segment="")  # corrected
    MarketSegmentChange.objects.filter(pk=changes[7].pk).delete()
    # Segments now (the rules' rows, overrides, an unclassified row), re-classified, one row gone.
    others = list(Account.objects.exclude(pk__in=[a.pk for a in accounts]).order_by("pk"))
    markets = [AccountMarket.objects.create(account=account, segment="BCGB "[n % 5].strip(), rule_segment="BCGB "[n % 5].strip(),
                                            override_segment="G" if n == 2 else "", override_reason="cruft" if n == 2 else "")
               for n, account in enumerate([*accounts, *others][:11])]
    AccountMarket.objects.filter(pk=markets[0].pk).update(segment="C", rule_segment="C")
    AccountMarket.objects.filter(pk=markets[6].pk).delete()
    Activity.objects.filter(pk=touches[4].pk).update(contact=cycles[6].contact)  # logged against another lead
    Activity.objects.filter(pk=touches[7].pk).update(occurred_at=F("occurred_at") - 30 * H, type="social")  # re-dated
    Activity.objects.filter(pk=touches[9].pk).update(automated=True)
    Activity.objects.filter(pk=touches[13].pk).delete()
    LeadCycle.objects.filter(pk=cycles[2].pk).update(lead_type="outbound")  # re-typed
    back = make_cycle(sdr, at(18, 9), contact=nurtured[0].contact, number=2, lead_type="outbound", source="outbound")
    NurtureEntry.objects.filter(pk=entries[0].pk).update(state="recycled", recycled_at=at(18, 9), new_cycle=back)
    NurtureEntry.objects.filter(pk=entries[1].pk).update(recycle_due_at=at(19) + 200 * 24 * H)
    LeadCycle.objects.filter(pk=cycles[4].pk).update(disposition="nurture", disposition_reason="By hand", reason=nurtured[0].reason, rep=tia)
    LeadCycle.objects.filter(pk=nurtured[-1].pk).update(lead_type="outbound")
    LeadCycle.objects.filter(pk=cycles[8].pk).update(dispositioned_at=at(16, 23), disposition="unqualified",
                                                     state="dispositioned")  # dispositioned later
    # Accounts change owner (the ownership service), score and tier (a rescoring's UPDATE),
    # segment and status, and leave (a delete): the books follow.
    account_owners_set(changes=[(accounts[1].pk, sdr.pk), (accounts[4].pk, tia.pk)], reason=OwnershipReason.MANUAL)
    Account.objects.filter(tier="B").update(tier="A", total_score=F("total_score") / 2 + 50, matched_icp=icp)
    Account.objects.filter(pk=accounts[3].pk).update(segment="enterprise", status="customer")
    Account.objects.filter(segment="mid_market", owner__isnull=True).delete()
    return {"sdr": sdr, "manager": manager, "ops": ops}


def enrol(cycle, cadence, state, outcomes, *, rep=None, hour=10) -> Enrolment:
    """An enrolment of the cycle's contact (or a new one) and its steps with these outcomes."""
    started = (cycle.assigned_at if cycle else at(6)) + hour * H
    enrolment = Enrolment.objects.create(contact=cycle.contact if cycle else ContactFactory(), cadence=cadence,
                                         rep=rep or cycle.rep, lead_cycle=cycle, state=state, enrolled_at=started,
                                         ended_at=None if state == "active" else started + 72 * H)
    for step, outcome in zip(cadence.steps.order_by("position"), outcomes, strict=False):
        EnrolmentStep.objects.create(enrolment=enrolment, step=step, position=step.position, channel=step.channel,
                                     due_at=started + step.day_offset * 24 * H, outcome=outcome,
                                     ended_at=None if outcome == "pending" else started + 24 * H)
    return enrolment


def page_cells(user, slug: str, **query) -> dict:
    """Every cell a page shows (tables, totals, summary, chart, notes), computed as the view does."""
    report = REPORTS[slug]
    request = RequestFactory().get("/", query)
    request.user = user
    with timezone.override(user_zone(user)):
        filterset = ReportFilterSet(request.GET, request=request, page=report)
        params_form = report.params_form(request.GET) if report.params_form else None
        assert filterset.is_valid() and (params_form is None or params_form.is_valid()), (slug, filterset.form.errors)
        scope = filterset.scope(user=user, segment_filters_reps=report.segment_filters_reps)
        result = report_compute(report, scope=scope, params=params_form.cleaned_data if params_form else {})
    return {
        "tables": {t.key: (t.header(), t.formatted_rows(), t.formatted_total()) for t in result.tables},
        "summary": result.summary, "chart": result.chart, "notes": result.notes,
    }


WINDOWS = [{"date_from": "2026-02-20", "date_to": "2026-03-19"}, {"date_from": "2026-03-05", "date_to": "2026-03-05"},
           {"date_from": "2026-03-04", "date_to": "2026-03-11", "lead_type": "outbound"}]


@time_machine.travel(NOW, tick=False)
def test_every_report_cell_equals_the_computation_from_history(history):
    assert rollups_check() == []
    checked = 0
    for who in ("ops", "manager", "sdr"):
        user = history[who].user
        for window in WINDOWS:
            for slug, report in REPORTS.items():
                query = {k: v for k, v in window.items() if k in ("date_from", "date_to") or k in report.filters}
                if slug == "scorecard":
                    query["rep"] = history["sdr"].pk
                kept = page_cells(user, slug, **query)
                with from_history():
                    scratch = page_cells(user, slug, **query)
                assert kept == scratch, (who, slug, query)
                checked += sum(len(rows) for _, rows, _ in kept["tables"].values())
    assert checked > 500  # the pages had rows to compare, not only empty tables


@time_machine.travel(NOW, tick=False)
def test_campaign_outcomes_follow_every_write_they_summarise(history):
    """The campaign page's won / cadence / meetings-held rollup after the writes only it reads
    (a won deal on a campaign cycle, a stage's outcome redefined, steps and enrolments changed,
    a meeting held, a cycle re-linked, marked an exception, deleted): equal to a rebuild, and the
    page equal to the computation from history for ops, a manager (New York) and an SDR."""
    campaign_cycles = list(LeadCycle.objects.filter(campaign_record_id__isnull=False, exception_at__isnull=True,
                                                    meetings__status="completed_qualified",
                                                    meetings__opportunity__pipeline_at__isnull=False).distinct())
    others = list(LeadCycle.objects.filter(campaign_record_id__isnull=False, exception_at__isnull=True,
                                           enrolments__isnull=False).exclude(pk=campaign_cycles[0].pk).distinct().order_by("pk"))
    gone = LeadCycle.objects.filter(pk__in=[c.pk for c in others[2:]], meetings__isnull=True).first()
    assert campaign_cycles and len(others) >= 3 and gone
    opportunity = Meeting.objects.filter(lead_cycle=campaign_cycles[0], status="completed_qualified").first().opportunity
    OpportunityStage.objects.filter(pk=opportunity.stage_id).update(outcome="won")  # an admin redefines a stage
    enrolment = Enrolment.objects.filter(lead_cycle__campaign_record_id__isnull=False, state="active").first()
    Enrolment.objects.filter(pk=enrolment.pk).update(state="dispositioned", ended_at=at(17))  # abandoned early
    EnrolmentStep.objects.filter(enrolment__state="dispositioned", outcome="pending").update(outcome="no_response", ended_at=at(17))
    Enrolment.objects.filter(state="positive").order_by("pk").first().delete()
    Meeting.objects.filter(status="scheduled", lead_cycle__isnull=False).update(status="completed_unqualified",
                                                                          dispositioned_at=F("scheduled_end_at") + H)
    CampaignInteraction.objects.filter(lead_cycle=others[0]).update(campaign=Campaign.objects.get(name="Spring webinar"))
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=others[1].pk), reason=ExceptionReason.objects.first(),
                              actor=history["ops"], at=NOW)
    LeadCycle.objects.filter(pk=gone.pk).delete()  # its enrolments are unlinked (SET_NULL)
    Opportunity.objects.filter(pk__in=Meeting.objects.filter(lead_cycle__isnull=False, opportunity__pipeline_at__isnull=True)
                               .values("opportunity")).update(stage=OpportunityStage.objects.get(code="closed_won"),
                                                              is_open=False, pipeline_at=at(12))  # reached the pipeline, won
    assert rollups_check() == []
    shown = 0
    for who in ("ops", "manager", "sdr"):
        for window in WINDOWS:
            query = {k: v for k, v in window.items() if k in ("date_from", "date_to", "lead_type")}
            kept = page_cells(history[who].user, "campaigns", **query)
            with from_history():
                assert kept == page_cells(history[who].user, "campaigns", **query), (who, query)
            shown += len(kept["tables"]["by-campaign"][1])
    assert shown > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(won), sum(completed), sum(early), sum(held) FROM reporting_campaignoutcomeday "
                       "WHERE campaign_id IS NOT NULL")
        assert all(cursor.fetchone())  # every outcome the page sums has rows to compare


@time_machine.travel(NOW, tick=False)
def test_tier_and_account_contact_rollups_follow_accounts_contacts_and_cycles(history):
    """ICP coverage's conversion by tier (reporting.TierCycleDay) after the writes that move a
    cycle between tiers without touching it: an account re-tiered or moved to another segment,
    a contact moved to another account or left without one, an account deleted (its contacts
    keep no account), a contact deleted with its cycles, a cycle re-assigned and one marked an
    exception, and raw SQL deleting a contact before its cycles in one transaction (deferred
    foreign keys). Equal to a rebuild, and the page equal to the computation from history for
    ops (Kolkata), a manager (New York) and an SDR, per segment too."""
    cycles = list(LeadCycle.objects.filter(exception_at__isnull=True, contact__account__isnull=False)
                  .select_related("contact__account").order_by("pk"))
    assert len(cycles) >= 10
    Account.objects.filter(pk__in=[c.contact.account_id for c in cycles[:4]]).update(tier="A")
    Account.objects.filter(pk=cycles[1].contact.account_id).update(tier="C", segment="enterprise")
    Account.objects.filter(pk__in=[c.contact.account_id for c in cycles[4:6]]).update(tier="Z")  # no tier of the list
    contact = cycles[6].contact
    contact.account = cycles[0].contact.account  # moved to a tier-A account
    contact.save()
    type(contact).objects.filter(pk=cycles[7].contact_id).update(account=None)
    leaving = AccountFactory(tier="B", segment="enterprise")
    for hour in (3, 20):
        make_cycle(history["sdr"], at(10, hour), contact=ContactFactory(account=leaving), lead_type="outbound")
    leaving.delete()  # SET_NULL: its contacts keep no account
    make_cycle(history["sdr"], at(9, 23), contact=ContactFactory(account=cycles[0].contact.account)).contact.delete()
    type(contact).objects.filter(pk=cycles[8].contact_id).update(account=cycles[9].contact.account)
    LeadCycle.objects.filter(pk=cycles[2].pk).update(rep=history["sdr"], assigned_at=at(11, 23))
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=cycles[3].pk), reason=ExceptionReason.objects.first(),
                              actor=history["ops"], at=NOW)
    raw = make_cycle(history["sdr"], at(12, 5), contact=ContactFactory(account=cycles[0].contact.account))
    with connection.cursor() as cursor:  # the contact first, its cycle after (deferred constraints)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("DELETE FROM people_contact WHERE id = %s", [raw.contact_id])
        cursor.execute("DELETE FROM people_leadcycle WHERE id = %s", [raw.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # Account coverage's contact side (reporting.AccountContacts): roles and personas changed, a
    # lead dispositioned and a new open cycle, a book's last contact gone.
    booked = list(Account.objects.filter(owner__isnull=False, contacts__isnull=False).distinct().order_by("pk"))
    assert len(booked) >= 3
    type(contact).objects.filter(account=booked[0]).update(buying_role="champion", persona="Finance")
    type(contact).objects.filter(pk=type(contact).objects.filter(account=booked[1]).order_by("pk").values("pk")[:1]).update(
        persona="FINANCE ", buying_role="decision_maker")
    LeadCycle.objects.filter(contact__account=booked[1], state__in=["assigned", "working"]).update(
        state="dispositioned", disposition="qualified", dispositioned_at=at(15))
    make_cycle(booked[2].owner, at(16, 3), contact=ContactFactory(account=booked[2], buying_role="influencer", persona="it"))
    type(contact).objects.filter(account=booked[-1]).update(account=None)  # no contacts left
    assert rollups_check() == []
    shown = 0
    for who in ("ops", "manager", "sdr"):
        for window in [*WINDOWS, {**WINDOWS[0], "segment": "enterprise"}, {**WINDOWS[0], "segment": "smb"}]:
            kept = page_cells(history[who].user, "icp-coverage", **window)
            with from_history():
                assert kept == page_cells(history[who].user, "icp-coverage", **window), (who, window)
            shown += len(kept["tables"]["by-tier"][1])
        for segment in ("", "enterprise", "smb"):
            query = {"segment": segment} if segment else {}
            kept = page_cells(history[who].user, "account-coverage", **query)
            with from_history():
                assert kept == page_cells(history[who].user, "account-coverage", **query), (who, segment)
            shown += len(kept["tables"]["by-rep"][1])
    assert shown > 0
    # Settings the kept side is compared with at read time: no roles required, a persona listed
    # twice (never covered, as from history), and none at all.
    for roles, personas in (([], ["Finance", "finance "]), ([], []), (["champion"], [])):
        CoverageSettings.objects.filter(pk=1).update(required_buying_roles=roles, required_personas=personas)
        kept = page_cells(history["ops"].user, "account-coverage")
        with from_history():
            assert kept == page_cells(history["ops"].user, "account-coverage"), (roles, personas)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT tier) FROM reporting_tiercycleday WHERE assigned <> 0")
        assert cursor.fetchone()[0] >= 3  # several tiers (and none) to compare


@time_machine.travel(NOW, tick=False)
def test_the_rebuild_command_repairs_and_check_reports(history):
    call_command("rebuild_report_rollups", "--check")
    with connection.cursor() as cursor:  # a broken rollup (a restore, a repair with triggers off)
        cursor.execute("UPDATE reporting_cycleday SET assigned = assigned + 1 WHERE id = (SELECT min(id) FROM reporting_cycleday)")
        cursor.execute("DELETE FROM reporting_firsttouch WHERE id = (SELECT min(id) FROM reporting_firsttouch)")
        cursor.execute("UPDATE reporting_bookcount SET accounts = accounts + 2 WHERE id = (SELECT max(id) FROM reporting_bookcount)")
        cursor.execute("DELETE FROM reporting_enrolmentfact WHERE id = (SELECT min(id) FROM reporting_enrolmentfact)")
        for table in ("meetingday SET meetings = meetings", "opportunityday SET priced = priced", "returnday SET returns = returns",
                      "segmentchangeday SET moves = moves", "marketcount SET accounts = accounts",
                      "openleadcount SET open = open"):
            cursor.execute(f"UPDATE reporting_{table} + 1 WHERE id = (SELECT min(id) FROM reporting_{table.split()[0]})")
        cursor.execute("UPDATE reporting_activityleadday SET activities = activities + 1 "
                       "WHERE id = (SELECT min(id) FROM reporting_activityleadday)")
        cursor.execute("UPDATE reporting_handlefact SET touches = touches + 1 WHERE id = (SELECT min(id) FROM reporting_handlefact)")
        cursor.execute("UPDATE reporting_nurturefact SET in_program = NOT in_program WHERE id = (SELECT min(id) FROM reporting_nurturefact)")
        cursor.execute("UPDATE reporting_campaignoutcome SET held = held + 1 WHERE id = (SELECT min(id) FROM reporting_campaignoutcome)")
        cursor.execute("DELETE FROM reporting_campaignoutcomeday WHERE id = (SELECT min(id) FROM reporting_campaignoutcomeday)")
        cursor.execute("UPDATE reporting_tiercycleday SET opp = opp + 1 WHERE id = (SELECT min(id) FROM reporting_tiercycleday)")
        cursor.execute("UPDATE reporting_accountcontacts SET known = known + 1 "
                       "WHERE account_id = (SELECT min(account_id) FROM reporting_accountcontacts)")
    differences = {d.table for d in rollups_check()}
    # research follows first touches, the day rollups follow the facts
    assert differences == {"cycles per day", "first touches", "research per day", "books",
                           "enrolment facts", "enrolments per day", "enrolment steps per day",
                           "reached steps per day", "reached steps per day and cadence",
                           "meetings per day", "opportunities per day", "returns per day",
                           "activities per day and lead type", "handle facts", "handle times per day",
                           "nurture facts", "segment changes per day", "market segments now",
                           "campaign outcomes", "campaign outcomes per day", "cycles per day and tier",
                           "account contacts", "nurture per day", "nurture due per day", "open leads now"}
    with pytest.raises(CommandError, match="differ from a rebuild"):
        call_command("rebuild_report_rollups", "--check")
    call_command("rebuild_report_rollups")
    assert rollups_check() == []


def test_windows_split_into_whole_utc_buckets_and_raw_ends():
    import zoneinfo

    ny = zoneinfo.ZoneInfo("America/New_York")
    start, end = dt.datetime(2026, 3, 2, tzinfo=ny), dt.datetime(2026, 3, 9, tzinfo=ny)
    assert window_split(start, end, step=dt.timedelta(days=1)) == (dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
                                                                     dt.datetime(2026, 3, 9, tzinfo=dt.UTC))
    assert window_split(start, end, step=H) == (start, end)  # whole-hour offsets: nothing raw
    one_day = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC), dt.datetime(2026, 3, 3, 4, tzinfo=dt.UTC)
    assert window_split(*one_day, step=dt.timedelta(days=1)) is None  # no whole UTC day inside


# The statements each page runs (as ops, the widest scope) — the savepoint and session settings
# included — whatever the data size; the report bench prints the same counts at 100k and 1M
# activities. A page another app registers later gets 6 until it is given its own line.
QUERY_BUDGET = {"team-dashboard": 10, "lead-response": 8, "activity": 10, "territory": 6, "icp-coverage": 7,
                "meetings": 8, "conversion": 6, "cadences": 5, "returns": 8, "scorecard": 21, "capacity": 7,
                "campaigns": 5, "nurture": 5, "market-segments": 10, "account-coverage": 8, "balance": 10,
                "fairness": 12}


@time_machine.travel(NOW, tick=False)
def test_report_pages_run_a_bounded_number_of_queries(history):
    user = history["ops"].user
    for slug, report in REPORTS.items():
        query = dict(WINDOWS[0]) if report.uses_dates else {}
        if slug == "scorecard":
            query["rep"] = history["sdr"].pk
        with CaptureQueriesContext(connection) as captured:
            page_cells(user, slug, **query)
        assert len(captured) <= QUERY_BUDGET.get(slug, 6), (slug, [q["sql"][:120] for q in captured])
