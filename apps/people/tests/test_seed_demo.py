import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import Account, Activity, DomainAlias, OwnershipEvent
from apps.leads.models import LeadCycle
from apps.meetings.models import Meeting, Opportunity, RescheduleAttempt
from apps.people.models import Contact, Rep, Team

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_organisation(django_db_setup, django_db_blocker):
    """One seeded demo organisation for every test here (each seed takes seconds): it is
    loaded inside a transaction that is rolled back after the module, and each test runs
    in a savepoint inside it, so what a test changes (a --reset reseed) is undone too."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", "--accounts", "300", "--seed", "7")
        yield
        transaction.set_rollback(True)


def snapshot():
    return (
        list(Account.objects.order_by("domain").values_list("name", "domain", "segment", "status", "owner__owner_name")),
        list(Contact.objects.order_by("email").values_list("email", "buying_role")),
        Activity.objects.count(),
    )


def test_seed_demo_builds_the_organisation_deterministically(demo_organisation):
    assert Team.objects.count() == 2 and all(t.manager for t in Team.objects.all())
    roles = dict(Rep.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {"sdr": 10, "ae": 5, "manager": 2, "ops": 1}
    sdrs = Rep.objects.filter(role="sdr")
    assert sum(1 for s in sdrs if s.ramp_factor() < 1) == 2
    assert sum(1 for s in sdrs if s.is_out_of_office()) == 1
    assert all(s.ae_partners.exists() for s in sdrs)
    assert Account.objects.count() == 300
    owned = Account.objects.filter(owner__isnull=False).count()
    assert 100 < owned < 200
    assert OwnershipEvent.objects.filter(reason="import").count() == owned
    assert DomainAlias.objects.exists()
    assert 2 <= Contact.objects.count() / 300 <= 4
    assert Activity.objects.filter(automated=True).exists() and Activity.objects.filter(automated=False).exists()
    assert LeadCycle.objects.exists()
    from apps.routing.models import RoutingRule

    assert RoutingRule.objects.filter(members__isnull=False).distinct().count() == 2
    user = get_user_model().objects.get(username="sdr1")
    assert user.check_password("sdrops-demo") and user.groups.filter(name="SDR").exists()
    first = snapshot()
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", "--accounts", "300", "--seed", "7")
    call_command("seed_demo", "--accounts", "300", "--seed", "7", "--reset")
    assert snapshot()[:2] == first[:2]


def test_every_printed_demo_login_works(client, demo_organisation):
    from django.conf import settings

    from apps.people.management.commands.seed_demo import USERS_DOC

    for username, _ in USERS_DOC:
        client.logout()
        response = client.post(
            "/admin/login/?next=/admin/", {"username": username, "password": settings.DEMO_PASSWORD, "next": "/admin/"}
        )
        assert response.status_code == 302 and response.url == "/admin/", username
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/accounts/account/").status_code == 200, username


# Moved here from apps/meetings/tests/test_demo.py to share the seeded organisation.
def test_demo_has_meetings_in_every_state_an_admin_should_see(demo_organisation):
    statuses = set(Meeting.objects.values_list("status", flat=True))
    assert {"scheduled", "completed_qualified", "no_show"} <= statuses
    now = timezone.now()
    assert Meeting.objects.filter(status="scheduled", scheduled_at__gt=now).exists()  # still to come
    assert Meeting.objects.filter(status="scheduled", disposition_due_at__lt=now).exists()  # overdue
    assert all(o.sourcing_sdr_id for o in Opportunity.objects.all()) and Opportunity.objects.exists()
    assert RescheduleAttempt.objects.filter(state="open").exists()
