"""sdrops.access.account_visible_to (one account in memory) answers as accounts_visible_to
(the queryset) for every role; the lead intake uses it to decide what its answer may name."""

import pytest

from apps.accounts.tests.factories import AccountFactory
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from sdrops.access import account_visible_to, accounts_visible_to

pytestmark = pytest.mark.django_db


def test_account_row_rule_matches_the_queryset_for_every_role(team, manager, sdr, other_sdr, ops):
    ae = RepFactory(role=Rep.Role.AE, team=team, owner_name="Abe AE")
    accounts = [
        AccountFactory(owner=sdr), AccountFactory(owner=other_sdr), AccountFactory(owner=None),
        AccountFactory(owner=None, opportunity_owner=ae), AccountFactory(owner=ae), AccountFactory(cs_owner=ae),
    ]
    for rep in (sdr, other_sdr, manager, ae, ops):
        visible = set(accounts_visible_to(user=rep.user).filter(pk__in=[a.pk for a in accounts]).values_list("pk", flat=True))
        assert {a.pk for a in accounts if account_visible_to(user=rep.user, account=a)} == visible, rep.role
