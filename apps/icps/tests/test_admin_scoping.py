"""Reps may read scores and log signals, but only on accounts they can see — also by URL."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import ScoreHistory, Signal, SignalType

pytestmark = pytest.mark.django_db


def test_sdr_sees_only_signals_and_history_of_own_accounts(client, sdr, other_sdr):
    mine, theirs = AccountFactory(name="Mine"), AccountFactory(name="Theirs")
    account_set_owner(account=mine, to_rep=sdr, reason="manual")
    account_set_owner(account=theirs, to_rep=other_sdr, reason="manual")
    kind = SignalType.objects.first()
    for account in (mine, theirs):
        Signal.objects.create(account=account, type=kind, occurred_at=timezone.now(), source="test")
        ScoreHistory.objects.create(account=account, new_tier="A", total_score=80)
    client.force_login(sdr.user)
    listed = client.get(reverse("admin:icps_signal_changelist")).context["cl"].result_list
    assert {s.account.name for s in listed} == {"Mine"}
    listed = client.get(reverse("admin:icps_scorehistory_changelist")).context["cl"].result_list
    assert {h.account.name for h in listed} == {"Mine"}
    other_signal = Signal.objects.get(account=theirs)
    assert client.get(reverse("admin:icps_signal_change", args=[other_signal.pk])).status_code == 302
    response = client.post(reverse("admin:icps_signal_add"), {
        "account": theirs.pk, "type": kind.pk, "occurred_at_0": "2026-11-01", "occurred_at_1": "10:00", "source": "x",
    })
    assert response.status_code == 200 and "account" in response.context["adminform"].form.errors
    assert Signal.objects.filter(account=theirs).count() == 1
