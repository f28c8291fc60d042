from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import Account
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.meetings.models import Meeting, Opportunity, OpportunityEvent, OpportunityStage
from apps.meetings.selectors import accounts_with_open_opportunity_ids, stage_by_code
from apps.meetings.services import (
    meeting_book,
    meeting_disposition,
    opportunity_create,
    opportunity_handover,
    opportunity_stage_set,
    opportunity_stage_update,
)
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def opportunity(pod, contact):
    return opportunity_create(account=contact.account, owner=pod["ae"], sourcing_sdr=pod["sdr"], actor=pod["ae"].user,
                              stage=stage_by_code("meeting_completed"), amount=Decimal("20000"), at=T0)


def test_default_stages_with_one_pipeline_stage():
    stages = list(OpportunityStage.objects.values_list("code", "outcome", "is_pipeline"))
    assert stages == [
        ("meeting_scheduled", "open", False), ("meeting_completed", "open", False), ("pipeline", "open", True),
        ("proposal", "open", False), ("negotiation", "open", False), ("closed_won", "won", False),
        ("closed_lost", "lost", False),
    ]


def test_stage_history_records_time_actor_and_pipeline_entry(opportunity, pod):
    ae = pod["ae"].user
    for days, code in ((3, "pipeline"), (10, "proposal"), (12, "pipeline"), (20, "negotiation")):
        opportunity_stage_set(opportunity=opportunity, stage=stage_by_code(code), actor=ae, at=T0 + dt.timedelta(days=days))
    opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("negotiation"), actor=ae)  # no change, no row
    rows = [
        (e.kind, e.from_stage and e.from_stage.code, e.to_stage.code, e.occurred_at, e.actor)
        for e in opportunity.events.all()
    ]
    assert rows == [
        ("created", None, "meeting_completed", T0, ae),
        ("stage", "meeting_completed", "pipeline", T0 + dt.timedelta(days=3), ae),
        ("stage", "pipeline", "proposal", T0 + dt.timedelta(days=10), ae),
        ("stage", "proposal", "pipeline", T0 + dt.timedelta(days=12), ae),
        ("stage", "pipeline", "negotiation", T0 + dt.timedelta(days=20), ae),
    ]
    assert opportunity.pipeline_at == T0 + dt.timedelta(days=3)  # the first entry into SAO, kept


def test_won_makes_the_account_a_customer_with_its_cs_owner(opportunity, pod):
    csm = RepFactory(role=Rep.Role.AE, owner_name="Cara Success")
    won = opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_won"), actor=pod["ae"].user,
                                cs_owner=csm)
    assert not won.is_open and won.closed_at is not None and won.pipeline_at is not None
    account = Account.objects.get(pk=won.account_id)
    assert account.status == Account.Status.CUSTOMER
    assert account.cs_owner == csm and account.opportunity_owner == pod["ae"] and account.sdr_owner == pod["sdr"]
    with pytest.raises(ValidationError, match="closed opportunity keeps its stage"):
        opportunity_stage_set(opportunity=won, stage=stage_by_code("proposal"), actor=pod["ae"].user)


def test_closed_lost_needs_a_reason(opportunity, pod):
    with pytest.raises(ValidationError) as error:
        opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_lost"), actor=pod["ae"].user)
    assert "closed_lost_reason" in error.value.message_dict
    # A reason in words (as a CRM sends it) is refused with the codes it could have sent.
    with pytest.raises(ValidationError) as error:
        opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_lost"), actor=pod["ae"].user,
                              closed_lost_reason="No budget this year")
    (message,) = error.value.message_dict["closed_lost_reason"]
    assert "“No budget this year” is not one of them" in message and "timing (Timing / no budget)" in message
    lost = opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_lost"), actor=pod["ae"].user,
                                 closed_lost_reason="competitor", closed_lost_details="Went with Globex")
    assert not lost.is_open and lost.closed_lost_reason == "competitor" and lost.pipeline_at is None


def test_merged_lost_requires_the_parent_opportunity_on_the_same_account(opportunity, pod, contact):
    parent = opportunity_create(account=contact.account, owner=pod["ae"], actor=pod["ae"].user, name="Initech – platform")
    elsewhere = opportunity_create(account=AccountFactory(), owner=pod["ae"], actor=pod["ae"].user)
    lost = stage_by_code("closed_lost")
    with pytest.raises(ValidationError) as error:
        opportunity_stage_set(opportunity=opportunity, stage=lost, actor=pod["ae"].user, closed_lost_reason="merged")
    assert error.value.message_dict["merged_into"] == [
        "“Merged into another opportunity” needs the parent opportunity it was merged into."
    ]
    for bad, message in ((opportunity, "into itself"), (elsewhere, "same account")):
        with pytest.raises(ValidationError, match=message):
            opportunity_stage_set(opportunity=opportunity, stage=lost, actor=pod["ae"].user,
                                  closed_lost_reason="merged", merged_into=bad)
    opportunity.refresh_from_db()
    assert opportunity.is_open and opportunity.merged_into is None
    merged = opportunity_stage_set(opportunity=opportunity, stage=lost, actor=pod["ae"].user,
                                   closed_lost_reason="merged", merged_into=parent)
    assert merged.merged_into == parent and merged.closed_lost_reason == "merged"


def test_the_database_refuses_merged_without_parent(opportunity):
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=opportunity.pk).update(
            is_open=False, stage=stage_by_code("closed_lost"), closed_lost_reason="merged"
        )


def test_attribution_survives_owner_changes(pod, contact, start, other_sdr):
    """The SDR who sourced the deal keeps the credit when the account moves to another SDR
    and the opportunity to another AE."""
    sdr, ae = pod["sdr"], pod["ae"]
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    with time_machine.travel(meeting.scheduled_end_at, tick=False):
        meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=ae.user)
    opportunity = Opportunity.objects.get()
    account = contact.account

    account_set_owner(account=account, to_rep=other_sdr, reason="retrieval")
    opportunity_handover(opportunity=opportunity, to_owner=pod["smb_ae"], actor=pod["manager"].user)
    opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_won"), actor=pod["smb_ae"].user)

    opportunity.refresh_from_db()
    account.refresh_from_db()
    assert opportunity.sourcing_sdr == sdr
    assert opportunity.owner == pod["smb_ae"]
    assert account.owner == other_sdr and account.sdr_owner == other_sdr  # the account moved on
    assert account.opportunity_owner == pod["smb_ae"]  # followed the hand-over
    assert list(Opportunity.objects.filter(sourcing_sdr=sdr, stage__code="closed_won")) == [opportunity]
    handover = opportunity.events.get(kind=OpportunityEvent.Kind.HANDOVER)
    assert handover.from_owner == ae and handover.to_owner == pod["smb_ae"] and handover.actor == pod["manager"].user


def test_open_opportunity_accounts_for_routing(opportunity, pod):
    assert list(accounts_with_open_opportunity_ids().values_list("account_id", flat=True)) == [opportunity.account_id]
    opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("closed_lost"), actor=pod["ae"].user,
                          closed_lost_reason="timing")
    assert not accounts_with_open_opportunity_ids().exists()


def test_pipeline_stage_is_editable_and_stays_unique(ops):
    proposal = stage_by_code("proposal")
    opportunity_stage_update(stage=proposal, name="4 – Proposal sent", is_pipeline=True, actor=ops.user)
    assert list(OpportunityStage.objects.filter(is_pipeline=True).values_list("code", "name")) == [
        ("proposal", "4 – Proposal sent")
    ]


def test_an_opportunity_on_the_account_is_evidence_to_qualify_the_lead(pod, contact):
    from apps.leads.models import LeadCycle
    from apps.leads.services import lead_cycle_disposition, lead_cycle_open, lead_cycle_qualification_evidence

    cycle = lead_cycle_open(contact=contact, rep=pod["sdr"], lead_type="inbound")
    assert not lead_cycle_qualification_evidence(cycle=cycle)
    with pytest.raises(ValidationError):
        lead_cycle_disposition(cycle=cycle, disposition="qualified", actor=pod["sdr"].user)
    opportunity_create(account=contact.account, owner=pod["ae"], actor=pod["ae"].user)
    assert lead_cycle_qualification_evidence(cycle=cycle)
    lead_cycle_disposition(cycle=cycle, disposition="qualified", actor=pod["sdr"].user)
    assert LeadCycle.objects.get(pk=cycle.pk).disposition == "qualified"
