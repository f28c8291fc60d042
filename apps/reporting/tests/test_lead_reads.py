"""The lead rollups (apps.reporting.lead_reads) equal the count over the cycles themselves after
every kind of write the lifecycle makes: new, worked, dispositioned, re-assigned, re-typed,
marked and cleared as an exception, deleted."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.leads.models import ExceptionReason, LeadCycle, LeadType
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.reporting import balance
from apps.reporting.rollup_reads import from_history
from apps.reporting.rollups import rollups_check
from apps.reporting.tests.conftest import make_cycle

H = dt.timedelta(hours=1)
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def both(rep_ids):
    kept = balance.open_inbound_leads(rep_ids=rep_ids)
    with from_history():
        scratch = balance.open_inbound_leads(rep_ids=rep_ids)
    return kept, scratch


@pytest.mark.django_db
def test_open_inbound_leads_follow_every_cycle_write(sdr, tia, manager):
    cycles = [make_cycle(rep, T0 + n * H, lead_type=["inbound", "outbound"][n % 2], touch=T0 + n * H if n % 3 == 1 else None,
                         done=T0 + 9 * H if n % 5 == 4 else None, disposition="unqualified" if n % 5 == 4 else "")
              for n, rep in enumerate([sdr, tia, sdr, None, tia, sdr, sdr, tia, None, sdr])]
    assert both(None)[0] == both(None)[1] and both(None)[0]
    LeadCycle.objects.filter(pk=cycles[0].pk).update(rep=tia)  # re-assigned
    LeadCycle.objects.filter(pk=cycles[2].pk).update(lead_type=LeadType.OUTBOUND)  # re-typed
    LeadCycle.objects.filter(pk=cycles[6].pk).update(state=LeadCycle.State.DISPOSITIONED, dispositioned_at=T0 + 20 * H,
                                                     disposition="qualified")
    LeadCycle.objects.filter(pk=cycles[8].pk).update(rep=sdr)  # the pool's cycle taken
    LeadCycle.objects.filter(pk=cycles[1].pk).delete()
    reason = ExceptionReason.objects.create(label="Lead-reads test")
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=cycles[5].pk), reason=reason, actor=manager, at=T0)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=cycles[7].pk), reason=reason, actor=manager, at=T0)
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=cycles[7].pk), actor=manager, at=T0)
    for rep_ids in (None, (sdr.pk,), (sdr.pk, tia.pk), ()):
        kept, scratch = both(rep_ids)
        assert kept == scratch, rep_ids
    assert rollups_check() == []
