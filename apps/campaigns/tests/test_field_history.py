"""Field history and the "renamed / pushed more than once" alarms (issue 19 item 5).

The history is kept by database triggers, so each write path is exercised here as it is in
the product: the account service (admin form, API), the CSV import's set-based upsert, a
queryset update and raw SQL for accounts; the opportunity service, the CRM sync and raw SQL
for close dates. The alarms run through the real scheduled task, with the history's dates set
by hand (the trigger stamps the database clock) so the windows are hand-worked.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse

from apps.accounts.imports.services import import_run
from apps.accounts.models import Account
from apps.accounts.services import account_fields_update, account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.campaigns.models import AccountNameChange, Alarm, AlarmSettings, OpportunityCloseDateChange
from apps.connect.crm import OpportunityChange, crm_opportunity_apply
from apps.connect.models import CrmLink
from apps.meetings.services.opportunities import opportunity_update
from apps.reporting.tests.conftest import make_opportunity

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TASK = "apps.campaigns.tasks.alarms_raise_task"
HEADER = "name,website,industry,employees,annual_revenue,country,segment,status,company_owner,domain_aliases\n"


def run_at(run_task, when):
    with time_machine.travel(when, tick=False):
        return run_task(TASK)


def dated(model, *days_before: float):
    """Give the record's history rows (in the order written) the dates T0 − days."""
    for change, days in zip(model.objects.order_by("id"), days_before, strict=True):
        model.objects.filter(pk=change.pk).update(changed_at=T0 - dt.timedelta(days=days))


def test_every_account_write_path_records_a_rename_and_only_a_rename(ops):
    account = AccountFactory(name="Acme", domain="acme.com", industry="Software")
    account_fields_update(account=account, actor=ops.user, fields={"name": "Acme Inc"})       # admin form, API
    account_fields_update(account=account, actor=ops.user, fields={"industry": "Retail"})     # not the name
    account_fields_update(account=account, actor=ops.user, fields={"name": "Acme Inc"})       # same name
    outcome = import_run(kind="accounts", data=(HEADER + "Acme Corp,acme.com,Retail,,,,,,,\n").encode(), actor=ops.user)
    assert outcome.updated == 1
    again = import_run(kind="accounts", data=(HEADER + "Acme Corp,acme.com,Retail,,,,,,,\n").encode(), actor=ops.user)
    assert (again.updated, again.unchanged) == (0, 1)                                          # re-import: nothing
    Account.objects.filter(pk=account.pk).update(name="ACME")                                  # bulk update
    with connection.cursor() as cursor:                                                        # raw SQL
        cursor.execute("UPDATE accounts_account SET name = 'Acme Ltd', employees = 5 WHERE id = %s", [account.pk])
        cursor.execute("UPDATE accounts_account SET employees = 6 WHERE id = %s", [account.pk])
    assert list(AccountNameChange.objects.filter(account=account).values_list("old_name", "new_name")) == [
        ("Acme", "Acme Inc"), ("Acme Inc", "Acme Corp"), ("Acme Corp", "ACME"), ("ACME", "Acme Ltd"),
    ]


def test_close_date_changes_through_the_service_the_crm_sync_and_sql(ops, sdr, ae):
    opp = make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=100,
                           created_at=T0)
    opportunity_update(opportunity=opp, actor=ops.user, name=opp.name, amount=100, close_date=dt.date(2026, 3, 31))
    CrmLink.objects.create(kind=CrmLink.Kind.OPPORTUNITY, external_id="006A", opportunity=opp)
    crm_opportunity_apply(change=OpportunityChange(system="salesforce", external_id="006A", close_date=dt.date(2026, 4, 30)),
                          actor=ops.user)
    # An amount-only change from the CRM keeps the close date (it used to blank it).
    crm_opportunity_apply(change=OpportunityChange(system="salesforce", external_id="006A", amount=250), actor=ops.user)
    opp.refresh_from_db()
    assert (opp.amount, opp.close_date) == (250, dt.date(2026, 4, 30))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE meetings_opportunity SET close_date = '2026-04-15' WHERE id = %s", [opp.pk])
    changes = list(OpportunityCloseDateChange.objects.filter(opportunity=opp))
    assert [(c.old_close_date, c.new_close_date, c.is_push) for c in changes] == [
        (None, dt.date(2026, 3, 31), False), (dt.date(2026, 3, 31), dt.date(2026, 4, 30), True),
        (dt.date(2026, 4, 30), dt.date(2026, 4, 15), False),
    ]


def test_each_further_rename_is_one_alarm_once_by_email_and_on_the_home(run_task, client, sdr, manager):
    """Renames 200, 40, 10 and 1 days before T0; window 90 days, threshold 2:
    the 40-day one counts 1 (the 200-day one is outside its window), the 10-day one 2 (alarm),
    the 1-day one 3 (alarm). A fifth rename half a day before a later run counts 4 (alarm)."""
    account = AccountFactory(name="A", domain="a-corp.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    pool = AccountFactory(name="P", domain="pool.com")
    for name in ["B", "C", "D", "E"]:
        Account.objects.filter(pk=account.pk).update(name=name)
    for name in ["Q", "R"]:
        Account.objects.filter(pk=pool.pk).update(name=name)
    dated(AccountNameChange, 200, 40, 10, 1, 3, 2)
    assert run_at(run_task, T0) == {"account_renamed": 2}
    alarms = list(Alarm.objects.order_by("id"))
    assert [a.title for a in alarms] == ["Account renamed 2 times in 90 days: E", "Account renamed 3 times in 90 days: E"]
    assert alarms[1].detail == ("“B” → “C” on 2026-01-21; “C” → “D” on 2026-02-20; “D” → “E” on 2026-03-01 "
                                "(dates UTC; threshold: 2 in 90 days).")
    assert {(a.rep, a.manager, a.account_id) for a in alarms} == {(sdr, manager, account.pk)}  # the pool account: no one
    assert len(mail.outbox) == 2 and {m.to[0] for m in mail.outbox} == {manager.user.email}
    assert run_at(run_task, T0 + dt.timedelta(hours=1)) == {}                                  # safe to run twice
    assert len(mail.outbox) == 2

    Account.objects.filter(pk=account.pk).update(name="F")
    AccountNameChange.objects.filter(new_name="F").update(changed_at=T0 + dt.timedelta(days=1))
    assert run_at(run_task, T0 + dt.timedelta(days=1, hours=12)) == {"account_renamed": 1}
    assert Alarm.objects.latest("id").title == "Account renamed 4 times in 90 days: F"

    client.force_login(manager.user)
    assert "Account renamed 4 times in 90 days: F" in client.get(reverse("admin:index")).content.decode()
    page = client.get(reverse("admin:campaigns_alarm_change", args=[alarms[0].pk])).content.decode()
    assert reverse("admin:workspace_account_record", args=[account.pk]) in page


def test_close_date_pushed_twice_raises_once_pull_ins_do_not_count(run_task, sdr, ae, manager):
    """Close date 31 Mar → 30 Apr (20 days ago, push 1) → 15 Apr (15 days ago, a pull-in) →
    31 May (5 days ago, push 2): one alarm at push 2; with a threshold of 3, none."""
    opp = make_opportunity(account=AccountFactory(), owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=1,
                           created_at=T0 - dt.timedelta(days=60))
    for day in ["2026-03-31", "2026-04-30", "2026-04-15", "2026-05-31"]:
        type(opp).objects.filter(pk=opp.pk).update(close_date=day)
    dated(OpportunityCloseDateChange, 30, 20, 15, 5)
    row = AlarmSettings.load()
    row.close_push_count = 3
    row.save()
    assert run_at(run_task, T0) == {}
    row.close_push_count = 2
    row.save()
    assert run_at(run_task, T0) == {"close_date_pushed": 1}
    alarm = Alarm.objects.get()
    assert alarm.title == f"Close date pushed 2 times in 180 days: {opp.name}"
    assert alarm.detail == ("Pushed 2026-03-31 → 2026-04-30 on 2026-02-10; 2026-04-15 → 2026-05-31 on 2026-02-25 "
                            "(dates UTC; threshold: 2 in 180 days).")
    assert (alarm.rep, alarm.manager, alarm.opportunity, alarm.account_id) == (ae, manager, opp, opp.account_id)
    assert [m.to for m in mail.outbox] == [[manager.user.email]]
    assert run_at(run_task, T0 + dt.timedelta(hours=2)) == {}
