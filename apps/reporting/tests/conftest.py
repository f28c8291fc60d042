from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from django.urls import reverse


class _TableParser(HTMLParser):
    """Reads the cells of one <table id=...> (header, body and footer rows) from a page."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.rows, self.row, self.cell = table_id, False, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.row = []
            if "no-data" in (attrs.get("class") or ""):
                self.row = None
        elif self.inside and tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "table":
            self.inside = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def html_table(html: str, key: str) -> list[list[str]]:
    parser = _TableParser(f"table-{key}")
    parser.feed(html)
    return parser.rows


def csv_table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def report(client):
    """report(user, slug, **params) → (response, html); logs `user` (a Rep or User) in."""

    logged_in = {}

    def _get(user, slug, **params):
        user = getattr(user, "user", user)
        if logged_in.get("user") != user.pk:
            client.force_login(user)
            logged_in["user"] = user.pk
        response = client.get(reverse("admin:report", args=[slug]), params)
        return response

    return _get


def make_accounts(owner, n, *, tier="", status="prospect", segment="smb", matched_icp=None, total_score=0):
    """n accounts owned by `owner` (a Rep or None for the pool), through the ownership service."""
    from apps.accounts.models import OwnershipReason
    from apps.accounts.services import account_owners_set
    from apps.accounts.tests.factories import AccountFactory

    accounts = [AccountFactory(tier=tier, status=status, segment=segment, matched_icp=matched_icp,
                               total_score=total_score) for _ in range(n)]
    if owner is not None:
        account_owners_set(changes=[(a.pk, owner.pk) for a in accounts], reason=OwnershipReason.IMPORT)
    return accounts


@pytest.fixture
def tia(team, manager):
    from apps.people.models import Rep
    from apps.people.tests.factories import RepFactory

    return RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Tia Teammate", user__username="tia")


def make_cycle(rep, assigned, *, touch=None, worked=None, done=None, disposition="", bypassed=False, source="inbound",
               lead_type="inbound", contact=None, number=1, campaign="", sla_maximum_at=None, response_time=None):
    """A lead cycle as the lifecycle services leave it (state follows from the times given)."""
    from apps.leads.models import LeadCycle
    from apps.people.tests.factories import ContactFactory

    contact = contact or ContactFactory()
    if done is not None:
        state = LeadCycle.State.DISPOSITIONED
    elif worked is not None or touch is not None:
        state = LeadCycle.State.WORKING
        worked = worked or touch
    else:
        state = LeadCycle.State.ASSIGNED
    if state == LeadCycle.State.DISPOSITIONED and touch is not None and worked is None:
        worked = touch
    reason = None
    if disposition in ("nurture", "unqualified"):
        from apps.leads.models import DispositionReason

        reason, _ = DispositionReason.objects.get_or_create(
            disposition=disposition, label=f"Report test {disposition} reason", defaults={"position": 99})
    return LeadCycle.objects.create(
        reason=reason, disposition_reason=reason.label if reason else "",
        contact=contact, number=number, rep=rep, assigned_at=assigned, first_touch_at=touch, worked_at=worked,
        dispositioned_at=done, disposition=disposition, bypassed_working=bypassed, source=source,
        lead_type=lead_type, state=state, campaign=campaign, sla_maximum_at=sla_maximum_at, response_time=response_time,
    )


def make_opportunity(*, account, owner, sourcing_sdr, stage="meeting_completed", amount=None, created_at, pipeline_at=None):
    from apps.meetings.models import Opportunity, OpportunityStage

    stage_row = OpportunityStage.objects.get(code=stage)
    is_open = stage_row.outcome == OpportunityStage.Outcome.OPEN
    return Opportunity.objects.create(
        account=account, name=f"{account} deal", stage=stage_row, is_open=is_open, amount=amount, owner=owner,
        sourcing_sdr=sourcing_sdr, created_at=created_at, pipeline_at=pipeline_at,
        closed_at=None if is_open else created_at, closed_lost_reason="" if is_open or stage_row.outcome == "won" else "other",
    )


def make_meeting(*, sdr, ae, scheduled_at, cycle=None, status="scheduled", opportunity=None, late=False, booked_at=None):
    """A meeting as the meetings services leave it (dispositioned an hour after it ends)."""
    import datetime as dt

    from apps.meetings.models import Meeting
    from apps.people.tests.factories import ContactFactory

    contact = cycle.contact if cycle is not None else ContactFactory()
    end = scheduled_at + dt.timedelta(minutes=30)
    dispositioned = status in ("completed_qualified", "completed_unqualified", "no_show")
    return Meeting.objects.create(
        contact=contact, account=contact.account, lead_cycle=cycle, sdr=sdr, ae=ae, scheduled_at=scheduled_at,
        scheduled_end_at=end, disposition_due_at=end + dt.timedelta(hours=24), status=status,
        dispositioned_at=end + (dt.timedelta(hours=30) if late else dt.timedelta(hours=1)) if dispositioned else None,
        disposition_late=late, opportunity=opportunity, cancelled_by="prospect" if status == "cancelled" else "",
        booked_at=booked_at or scheduled_at - dt.timedelta(days=2),
    )


@pytest.fixture(autouse=True)
def _reference_rows(request):
    """Transactional tests (the browser tests) flush the rows data migrations made (opportunity
    stages, disposition reasons, SLA policies, funnel targets); --reuse-db keeps them flushed."""
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
        from apps.leads.defaults import lifecycle_defaults_ensure
        from apps.meetings.defaults import meetings_defaults_ensure
        from apps.reporting.models import FunnelTargets

        lifecycle_defaults_ensure()
        meetings_defaults_ensure()
        FunnelTargets.objects.get_or_create(pk=1)
