from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.people.models import Rep, Segment


@pytest.fixture(autouse=True)
def meeting_defaults(request):
    """Transactional tests flush the database, taking the data migration's stages with them."""
    if request.node.get_closest_marker("django_db"):
        from apps.leads.defaults import lifecycle_defaults_ensure
        from apps.meetings.defaults import meetings_defaults_ensure

        meetings_defaults_ensure()
        lifecycle_defaults_ensure()


@pytest.fixture
def reason():
    """reason("Not a prospect") → the DispositionReason whose label starts so."""
    from apps.leads.models import DispositionReason

    return lambda label: DispositionReason.objects.get(label__startswith=label)


@pytest.fixture
def pod(sdr, ae, manager):
    """Sam (SDR, team East, manager Mona) books for Abe (AE, Mid-Market) and Eve (AE, SMB)."""
    from apps.people.tests.factories import RepFactory

    ae.segment = Segment.MID_MARKET
    ae.save()
    smb_ae = RepFactory(role=Rep.Role.AE, team=ae.team, owner_name="Eve Smb", segment=Segment.SMB, user__username="eve")
    sdr.ae_partners.add(ae, smb_ae)
    return {"sdr": sdr, "ae": ae, "smb_ae": smb_ae, "manager": manager}


@pytest.fixture
def contact(sdr):
    from apps.accounts.services import account_set_owner
    from apps.accounts.tests.factories import AccountFactory
    from apps.people.tests.factories import ContactFactory

    account = AccountFactory(name="Initech", domain="initech.com", segment=Segment.MID_MARKET)
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    return ContactFactory(account=account, first_name="Peter", last_name="Gibbons", email="peter@initech.com")


@pytest.fixture
def start():
    """A meeting time two days ahead, on the minute."""
    return (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
