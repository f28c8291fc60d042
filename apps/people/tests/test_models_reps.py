import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from apps.people.models import Rep
from apps.people.roles import AE, MANAGER, OPS, SDR
from apps.people.selectors import normalize_owner_name, rep_by_owner_name
from apps.people.tests.factories import RepFactory

D = dt.date


@pytest.mark.parametrize(
    ("ramp_start", "on", "factor"),
    [
        (None, D(2026, 1, 1), 1.0),
        (D(2026, 1, 15), D(2026, 1, 15), 0.0),
        (D(2026, 1, 15), D(2026, 2, 14), 0.0),
        (D(2026, 1, 15), D(2026, 2, 15), 0.5),
        (D(2026, 1, 15), D(2026, 3, 14), 0.5),
        (D(2026, 1, 15), D(2026, 3, 15), 1.0),
        (D(2026, 1, 31), D(2026, 3, 1), 0.5),
        (D(2026, 11, 20), D(2027, 1, 20), 1.0),
    ],
)
def test_ramp_factor_by_month(ramp_start, on, factor):
    assert Rep(ramp_start=ramp_start).ramp_factor(on) == factor




@pytest.mark.django_db
def test_owner_name_unique_ignoring_case_and_lookup_ignores_spacing():
    rep = RepFactory(owner_name="Jane Smith")
    with pytest.raises(IntegrityError), transaction.atomic():
        RepFactory(owner_name="jane smith")
    assert rep_by_owner_name("  JANE   smith ") == rep
    assert rep_by_owner_name("") is None
    assert normalize_owner_name(" a  b ") == "a b"


@pytest.mark.django_db
def test_out_of_office_range_must_be_ordered():
    with pytest.raises(IntegrityError), transaction.atomic():
        RepFactory(out_of_office_from=D(2026, 5, 2), out_of_office_to=D(2026, 5, 1))


@pytest.mark.django_db
def test_role_groups_created_by_migration_with_permissions():
    perms = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert {OPS, MANAGER, SDR, AE} <= set(perms)
    assert "change_account_owner" in perms[OPS] and "delete_account" in perms[OPS]
    assert "change_account_owner" not in perms[SDR] | perms[MANAGER] | perms[AE]
    assert "change_account" in perms[SDR] and "change_account" not in perms[AE]
    assert "add_contact" in perms[SDR]


def test_effective_capacity_ramp_out_of_office_inactive():
    # Moved from people's Rep.effective_capacity (dead: routing's selector is the one rule,
    # with the capacity-rule base instead of the rep's own field).
    from apps.routing.selectors import effective_capacity

    on = D(2026, 6, 10)

    def cap(**fields):
        return effective_capacity(rep=Rep(**fields), base_capacity=fields.get("capacity", 100), on=on)

    assert cap(capacity=100) == 100
    # Issue 18: the ramp scales targets; a ramping book starts with the starter allocation
    # (4 accounts per partner AE by default, at least one AE) and is full at full ramp.
    assert cap(capacity=100, ramp_start=D(2026, 4, 20)) == 4
    assert cap(capacity=100, ramp_start=D(2026, 4, 10)) == 100
    assert cap(capacity=100, out_of_office_from=D(2026, 6, 9), out_of_office_to=D(2026, 6, 10)) == 0
    assert cap(capacity=100, out_of_office_from=D(2026, 6, 1), out_of_office_to=D(2026, 6, 9)) == 100
    assert cap(capacity=100, active=False) == 0
