"""Alarms through the real scheduled task: a bulk no-touch unqualify of one campaign raises one
alarm (on the manager's home and by email), once; SAOs gone dark; IQMs pending SAO; editable
thresholds."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from apps.accounts.models import Activity
from apps.accounts.tests.factories import AccountFactory
from apps.campaigns.alarms import alarm_url
from apps.campaigns.models import Alarm, AlarmSettings
from apps.campaigns.services import campaign_lead_attach
from apps.campaigns.tests.factories import CampaignFactory
from apps.leads.models import DispositionReason, ExceptionReason
from apps.leads.services import (
    lead_cycle_disposition,
    lead_cycle_exception_clear,
    lead_cycle_exception_mark,
    lead_cycle_open,
)
from apps.people.tests.factories import ContactFactory
from apps.reporting.tests.conftest import make_meeting, make_opportunity

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TASK = "apps.campaigns.tasks.alarms_raise_task"


def run_at(run_task, when):
    with time_machine.travel(when, tick=False):
        return run_task(TASK)


def tradeshow_leads(rep, n, *, campaign, at=T0, source="event"):
    cycles = []
    for _ in range(n):
        contact = ContactFactory(source=source)
        with time_machine.travel(at, tick=False):
            cycle = lead_cycle_open(contact=contact, rep=rep, source=source)
            campaign_lead_attach(campaign=campaign, contact=contact, cycle=cycle)
        cycles.append(cycle)
    return cycles


def unqualify(cycles, rep, at):
    reason = DispositionReason.objects.get(label="Not a prospect (student, job seeker)")
    for i, cycle in enumerate(cycles):
        with time_machine.travel(at + dt.timedelta(minutes=i), tick=False):
            lead_cycle_disposition(cycle=cycle, disposition="unqualified", reason=reason, actor=rep.user)


def test_bulk_no_touch_unqualify_raises_one_alarm_by_email_once(run_task, client, sdr, manager, other_team):
    from apps.people.tests.factories import RepFactory

    show = CampaignFactory(name="Tradeshow 2026", offer="event", cost=350000)
    cycles = tradeshow_leads(sdr, 6, campaign=show)
    unqualify(cycles, sdr, T0 + dt.timedelta(hours=1))
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {"cherry_picking": 1}
    alarm = Alarm.objects.get()
    assert alarm.title == "Sam Seller dispositioned 6 leads of campaign “Tradeshow 2026” without a touch"
    assert alarm.detail == "6 leads (unqualified) within 24 h, none of them ever touched (threshold: 5)."
    assert (alarm.rep, alarm.manager) == (sdr, manager)
    assert sorted(alarm.cycles.values_list("pk", flat=True)) == sorted(c.pk for c in cycles)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [manager.user.email]
    assert mail.outbox[0].subject == f"[sdrops alarm] {alarm.title}"
    link = alarm_url(alarm)
    assert link.startswith("http") and link.endswith(f"/admin/campaigns/alarm/{alarm.pk}/change/")
    assert link in mail.outbox[0].body
    # Raised once: later runs (and a 7th lead in the same burst) add nothing.
    assert run_at(run_task, T0 + dt.timedelta(hours=3)) == {}
    assert len(mail.outbox) == 1

    # On the manager's home, linked; another team's manager sees nothing.
    client.force_login(manager.user)
    home = client.get(reverse("admin:index")).content.decode()
    assert alarm.title in home
    assert f"/admin/campaigns/alarm/{alarm.pk}/change/" in home
    page = client.get(reverse("admin:campaigns_alarm_change", args=[alarm.pk])).content.decode()
    assert page.count("/admin/leads/leadcycle/") >= 6
    west = RepFactory(role="manager", team=other_team, owner_name="Will West", user__username="will")
    other_team.manager = west
    other_team.save()
    client.force_login(west.user)
    assert alarm.title not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:campaigns_alarm_change", args=[alarm.pk])).status_code in (302, 404)


def test_touched_leads_system_dispositions_and_small_batches_raise_nothing(run_task, sdr):
    show = CampaignFactory(name="Webinar")
    worked = tradeshow_leads(sdr, 3, campaign=show)
    for cycle in worked:
        Activity.objects.create(type="call", rep=sdr, contact=cycle.contact, account=cycle.contact.account,
                                occurred_at=T0 + dt.timedelta(minutes=5))
        from apps.leads.services import lead_cycle_touch

        lead_cycle_touch(contact=cycle.contact, activity=Activity.objects.filter(contact=cycle.contact).first())
    untouched = tradeshow_leads(sdr, 4, campaign=show)
    unqualify(worked + untouched, sdr, T0 + dt.timedelta(hours=1))
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {}  # 4 without a touch < 5


def test_threshold_is_editable(run_task, sdr):
    row = AlarmSettings.load()
    row.cherry_pick_count = 7
    row.save()
    cycles = tradeshow_leads(sdr, 6, campaign=CampaignFactory(name="Ebook"))
    unqualify(cycles, sdr, T0 + dt.timedelta(hours=1))
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {}
    row.cherry_pick_count = 6
    row.save()
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {"cherry_picking": 1}


def test_leads_of_one_source_without_a_campaign_count_together(run_task, sdr):
    reason = DispositionReason.objects.get(label="Not a prospect (student, job seeker)")
    for i in range(5):
        contact = ContactFactory(source="partner")
        with time_machine.travel(T0, tick=False):
            cycle = lead_cycle_open(contact=contact, rep=sdr, source="partner")
        with time_machine.travel(T0 + dt.timedelta(hours=20, minutes=i), tick=False):
            lead_cycle_disposition(cycle=cycle, disposition="unqualified", reason=reason, actor=sdr.user)
    assert run_at(run_task, T0 + dt.timedelta(hours=21)) == {"cherry_picking": 1}
    assert Alarm.objects.get().title == "Sam Seller dispositioned 5 leads of source “partner” without a touch"


def test_sao_gone_dark_and_iqm_pending_sao(run_task, sdr, ae, manager):
    quiet = make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=1,
                             created_at=T0 - dt.timedelta(days=30), pipeline_at=T0 - dt.timedelta(days=20))
    chased = make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=1,
                              created_at=T0 - dt.timedelta(days=6), pipeline_at=T0 - dt.timedelta(days=5))
    for i, kind in enumerate(["call", "call", "call", "email", "email", "email"]):
        Activity.objects.create(type=kind, rep=ae, account=chased.account, occurred_at=T0 - dt.timedelta(days=4, hours=-i))
    fine = make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=1,
                            created_at=T0 - dt.timedelta(days=6), pipeline_at=T0 - dt.timedelta(days=5))
    Activity.objects.create(type="call", rep=ae, account=fine.account, occurred_at=T0 - dt.timedelta(days=1))
    pending = make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr, stage="meeting_completed",
                               created_at=T0 - dt.timedelta(days=9))
    iqm = make_meeting(sdr=sdr, ae=ae, scheduled_at=T0 - dt.timedelta(days=9), status="completed_qualified",
                       opportunity=pending)
    make_meeting(sdr=sdr, ae=ae, scheduled_at=T0 - dt.timedelta(days=3), status="completed_qualified",
                 opportunity=make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr,
                                              stage="meeting_completed", created_at=T0 - dt.timedelta(days=3)))
    assert run_at(run_task, T0) == {"sao_dark": 2, "iqm_pending": 1}
    titles = dict(Alarm.objects.values_list("opportunity_id", "detail").filter(kind="sao_dark"))
    assert titles[quiet.pk].endswith("no touch by its AE or SDR for 20 days.")
    assert "3 calls and 3 emails since its stage last moved" in titles[chased.pk]
    assert Alarm.objects.get(kind="iqm_pending").meeting == iqm
    assert run_at(run_task, T0 + dt.timedelta(hours=1)) == {}


def test_exception_cycles_are_left_out_of_the_cherry_pick_count(run_task, sdr, manager):
    """6 no-touch unqualifies, 2 of them marked exceptions by the manager → 4 counted < 5: no
    alarm; clearing one mark → 5 counted: one alarm naming exactly those 5 cycles."""
    cycles = tradeshow_leads(sdr, 6, campaign=CampaignFactory(name="Fair 2026"))
    unqualify(cycles, sdr, T0 + dt.timedelta(hours=1))
    reason = ExceptionReason.objects.create(label="Test leads from the booth scanner")
    for cycle in cycles[:2]:
        lead_cycle_exception_mark(cycle=cycle, reason=reason, actor=manager)
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {}
    lead_cycle_exception_clear(cycle=cycles[0], actor=manager)
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {"cherry_picking": 1}
    alarm = Alarm.objects.get()
    assert sorted(alarm.cycles.values_list("pk", flat=True)) == sorted(c.pk for c in [cycles[0], *cycles[2:]])
    assert alarm.title == "Sam Seller dispositioned 5 leads of campaign “Fair 2026” without a touch"
    assert run_at(run_task, T0 + dt.timedelta(hours=3)) == {}
