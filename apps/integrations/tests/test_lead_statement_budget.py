"""Issue 16 target 2: routing one inbound lead costs at most 8 data statements on the routing
path (owned account / pool account by a rule / new company) and at most 12 for the whole
POST /api/leads/ of a scoped SDR token. Transaction control (BEGIN, COMMIT, savepoints) is
counted apart: lead_route and its nested services open none.

Configuration caches (sdrops.config_cache) are warm in a running worker, so each test routes
one lead first; the measured lead then pays only what every lead pays."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.routing.models import Strategy
from apps.routing.services import lead_route
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def split(ctx) -> tuple[list[str], list[str]]:
    """(data statements, transaction-control statements) of a capture."""
    sql = [q["sql"] for q in ctx.captured_queries]
    return [s for s in sql if not s.startswith(CONTROL)], [s.split(" ")[0] for s in sql if s.startswith(CONTROL)]


def listing(statements) -> str:
    return "\n".join(" ".join(s.split())[:160] for s in statements)


@pytest.fixture
def books(team):
    """Three SDRs in a weighted round robin, one owned account, one pool account and two
    active ICPs with firmographic and signal rules (a new company is scored against them)."""
    from apps.icps.tests.factories import ICPFactory, RuleFactory, signal_type

    for icp in ICPFactory.create_batch(2):
        RuleFactory(icp=icp)
        RuleFactory(icp=icp, category="readiness", condition="signal_count", values=[], minimum=1, days=30,
                    signal_type=signal_type("demo_request"))
    sdrs = [RepFactory(role=Rep.Role.SDR, team=team, owner_name=f"SDR {i}") for i in range(3)]
    rule_with(sdrs, strategy=Strategy.WEIGHTED_ROUND_ROBIN)
    owned = AccountFactory(domain="owned.io")
    account_set_owner(account=owned, to_rep=sdrs[0], reason="manual")
    AccountFactory(domain="pool.io")
    # A worker's first lead (a new company: scoring's ICP specs and thresholds load too).
    lead_route(contact=ContactFactory(email="first@warm-up.io", account=None))
    return sdrs


CASES = [
    ("owned account", "jane@owned.io", "current_owner", False),
    ("pool account by a rule", "jane@pool.io", "rule", False),
    ("new company", "jane@brand-new.io", "rule", True),
]


@pytest.mark.parametrize(("case", "email", "outcome", "created"), CASES, ids=[c[0] for c in CASES])
def test_routing_one_lead_runs_at_most_8_data_statements_and_no_savepoint(books, case, email, outcome, created):
    contact = ContactFactory(email=email, account=None, source=Contact.Source.INBOUND)
    with CaptureQueriesContext(connection) as ctx:
        decision = lead_route(contact=contact)
    assert (decision.outcome, decision.account_created, decision.cycle.rep_id) == (outcome, created, decision.rep_id)
    data, control = split(ctx)
    assert len(data) <= 8, listing(data)
    assert control == [], control  # inside the caller's transaction: no savepoint of its own


@pytest.mark.parametrize(("case", "email", "outcome", "created"), CASES, ids=[c[0] for c in CASES])
def test_lead_post_by_a_scoped_sdr_token_runs_at_most_12_data_statements(
    books, make_client, case, email, outcome, created
):
    client, _ = make_client(books[0])
    client.post("/api/leads/", {"email": "warm-up@warm-up.io"}, format="json")  # the token's last-used stamp
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/leads/", {"email": email, "first_name": "Jane"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["routed"] and response.json()["assigned"]
    data, control = split(ctx)
    assert len(data) <= 12, listing(data)
    # One transaction for the intake (a savepoint here, inside the test's transaction).
    assert control == ["SAVEPOINT", "RELEASE"], control


def test_a_token_first_seen_this_minute_stamps_last_used_within_the_budget(books, make_client):
    warm, _ = make_client(books[0])
    warm.post("/api/leads/", {"email": "warm-up@warm-up.io"}, format="json")  # the user's permission set, cached
    client, integration = make_client(books[0])
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/leads/", {"email": "jane@brand-new.io"}, format="json")
    assert response.status_code == 201
    data, _ = split(ctx)
    assert len(data) <= 12, listing(data)
    integration.refresh_from_db()
    assert integration.last_used_at is not None
