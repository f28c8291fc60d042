"""Issue 18, fair books: one weight, a growing ramp book, leave that costs nobody, credits —
each rule with numbers worked by hand in the docstrings."""

import datetime as dt
import statistics
from collections import Counter

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.imports.services import import_run
from apps.accounts.models import Account
from apps.accounts.services import account_owners_set, account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory, RepFactory, TeamFactory
from apps.routing import selectors
from apps.routing.models import RoutingDecision, RoutingRuleMember, Strategy
from apps.routing.services import distribution_run, lead_route, retrieval_run
from apps.routing.tests.factories import ScoredAccountFactory, rule_with

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def lead(email, **kwargs):
    return ContactFactory(email=email, account=None, source=Contact.Source.INBOUND, **kwargs)


def route_many(n, prefix):
    return [lead_route(contact=lead(f"p{i}@{prefix}{i}.com")) for i in range(n)]


def test_weighted_rotation_uses_the_imported_rep_weights_over_one_full_cycle(team, settings, tmp_path):
    """One weight: reps imported with weights 1/2/3 (the reps CSV's `weight`, the rep's
    routing weight) route 1:2:3 — one cycle is 6 leads, and the next cycle repeats it."""
    settings.MEDIA_ROOT = tmp_path
    text = ("owner_name,email,role,team,manager,capacity,weight,ramp_start\n"
            "Una One,una@example.com,SDR,East,,1000,1,\n"
            "Tom Two,tom@example.com,SDR,East,,1000,2,\n"
            "Tia Three,tia@example.com,SDR,East,,1000,3,\n")
    assert import_run(kind="reps", data=text.encode()).new == 3
    reps = list(Rep.objects.filter(owner_name__in=["Una One", "Tom Two", "Tia Three"]).order_by("routing_weight"))
    assert [str(r.routing_weight) for r in reps] == ["1.00", "2.00", "3.00"]
    rule_with(reps, strategy=Strategy.WEIGHTED_ROUND_ROBIN)
    first = [d.rep.owner_name for d in route_many(6, "a")]
    assert Counter(first) == {"Una One": 1, "Tom Two": 2, "Tia Three": 3}
    assert [d.rep.owner_name for d in route_many(6, "b")] == first
    assert "weight 3" in RoutingDecision.objects.filter(rep=reps[2]).latest("id").explanation


def test_away_owner_who_is_also_a_member_is_listed_once(team):
    a, b = (RepFactory(role=Rep.Role.SDR, team=team) for _ in range(2))
    rule_with([a, b])
    account = AccountFactory(domain="held.com")
    account_set_owner(account=account, to_rep=a, reason="manual")
    Rep.objects.filter(pk=a.pk).update(out_of_office_from=timezone.localdate() - dt.timedelta(days=1))
    decision = lead_route(contact=lead("x@held.com"))
    assert decision.rep == b
    assert decision.skipped == [{"rep_id": a.pk, "rep": a.owner_name, "reason": "out_of_office"}]
    assert decision.explanation.count(a.owner_name) == 1


def test_two_week_leave_pauses_the_idle_clock_and_costs_no_turns(team, sdr):
    """Sam owns an account last worked on 5 January 12:00; inactivity 30 days. Sam is away
    25 January – 7 February (14 days). The retrieval on 4 February (day 30) finds it idle for
    30 − 10.5 days of leave so far = 19.5 days: kept. After the leave the clock counts 30 days
    only on day 30 + 14 = 18 February 12:00 (17 February: 29 days, kept).
    The rotation meanwhile (three equal reps, 6 leads during the leave) owes Sam 6 × ⅓ = 2
    turns, repaid at double weight after the return."""
    t0 = dt.datetime(2026, 1, 5, 12, tzinfo=UTC)
    peers = [RepFactory(role=Rep.Role.SDR, team=team, capacity=1000) for _ in range(2)]
    Rep.objects.filter(pk=sdr.pk).update(capacity=1000)
    rule = rule_with([sdr, *peers])
    account = ScoredAccountFactory()
    with time_machine.travel(t0, tick=False):
        account_set_owner(account=account, to_rep=sdr, reason="distribution")
    Rep.objects.filter(pk=sdr.pk).update(out_of_office_from=dt.date(2026, 1, 25), out_of_office_to=dt.date(2026, 2, 7))
    with time_machine.travel(t0 + dt.timedelta(days=30), tick=False):
        assert retrieval_run() == []
        during = route_many(6, "leave")
    assert sdr not in [d.rep for d in during]
    assert all(d.skipped == [{"rep_id": sdr.pk, "rep": sdr.owner_name, "reason": "out_of_office"}] for d in during)
    assert RoutingRuleMember.objects.get(rule=rule, rep=sdr).leave_turns == pytest.approx(2.0)
    with time_machine.travel(t0 + dt.timedelta(days=43), tick=False):
        assert account.pk not in [r.account_id for r in retrieval_run()]
        back = [d.rep for d in route_many(8, "back")]
    assert back.count(sdr) == 4 and not any(x == y == sdr for x, y in zip(back, back[1:], strict=False))
    assert Counter([d.rep for d in during] + back) == {sdr: 4, peers[0]: 5, peers[1]: 5}
    with time_machine.travel(t0 + dt.timedelta(days=44), tick=False):
        assert [r.account_id for r in retrieval_run() if r.account_id == account.pk] == [account.pk]


@pytest.fixture
def ramp_team():
    team = TeamFactory(name="Ramp")
    ramping = RepFactory(role=Rep.Role.SDR, team=team, segment="smb", capacity=30, ramp_start=dt.date(2026, 3, 1),
                         owner_name="Rae Ramp")
    ramping.ae_partners.add(*[RepFactory(role=Rep.Role.AE, team=team) for _ in range(2)])
    full = RepFactory(role=Rep.Role.SDR, team=team, segment="smb", capacity=30, owner_name="Flo Full")
    # 120 pool accounts, scores 0-99 spread over the tiers (A ≥ 70, B 40-69, C < 40).
    for i in range(120):
        ScoredAccountFactory(segment="smb", total_score=(i * 37) % 100)
    return ramping, full


def test_month_1_2_3_rep_book_grows_across_three_distributions(ramp_team):
    """Rae starts 1 March with 2 partner AEs: starter 4 per AE = 8 accounts; the book grows
    by the step (5) each distribution while ramping and is full (30) at full ramp.
    2 March (month 1): 8.  6 April (month 2): 8 + 5 = 13.  4 May (month 3): 30.
    Flo (fully ramped, capacity 30) is filled at once."""
    ramping, full = ramp_team

    def book(rep):
        return Account.objects.filter(owner=rep).count()

    with time_machine.travel(dt.datetime(2026, 3, 2, 6, tzinfo=UTC), tick=False):
        first = distribution_run()
        assert (book(ramping), book(full)) == (8, 30)
        rep = selectors.reps_with_capacity(Rep.objects.filter(pk=ramping.pk)).get()
        # Between distributions the book keeps its size: a month-1 rep is at capacity at 8.
        assert selectors.effective_capacity(rep=rep, base_capacity=rep.base_capacity, on=dt.date(2026, 3, 2)) == 8
    row = next(r for r in first.summary if r["rep_id"] == ramping.pk)
    assert (row["capacity"], row["ramping"]) == (8, True)
    with time_machine.travel(dt.datetime(2026, 4, 6, 6, tzinfo=UTC), tick=False):
        distribution_run()
        assert (book(ramping), book(full)) == (13, 30)
    with time_machine.travel(dt.datetime(2026, 5, 4, 6, tzinfo=UTC), tick=False):
        third = distribution_run()
        assert (book(ramping), book(full)) == (30, 30)
    assert next(r for r in third.summary if r["rep_id"] == ramping.pk)["ramping"] is False


def test_ramping_rep_gets_a_fair_tier_mix_not_the_dregs(ramp_team):
    """Rae's 8 slots sit at (j + ½) ÷ 8 along the 38 best pool accounts, Flo's 30 likewise:
    both books get the same spread of scores (means within 5 points), and Rae gets accounts
    from the top and the bottom of the deal, not the first or the last eight."""
    ramping, full = ramp_team
    with time_machine.travel(dt.datetime(2026, 3, 2, 6, tzinfo=UTC), tick=False):
        distribution_run()
    rae = sorted(Account.objects.filter(owner=ramping).values_list("total_score", flat=True))
    flo = sorted(Account.objects.filter(owner=full).values_list("total_score", flat=True))
    assert abs(statistics.mean(rae) - statistics.mean(flo)) <= 5, (rae, flo)
    dealt = sorted(rae + flo)
    assert rae[0] <= dealt[len(dealt) // 4] and rae[-1] >= dealt[3 * len(dealt) // 4]


def test_inbound_weighs_ramping_reps_by_the_setting(team):
    """skip_month_1 (default): a month-1 rep gets no inbound ("not ramped yet"); a month-2
    rep rotates at half weight (1 of every 3 leads against a full rep). weight_by_ramp: a
    month-1 rep at a quarter (1 of every 5)."""
    from apps.routing.models import RulesOfEngagement

    today = dt.date(2026, 6, 15)
    month2 = RepFactory(role=Rep.Role.SDR, team=team, capacity=1000, ramp_start=dt.date(2026, 5, 1))
    full = RepFactory(role=Rep.Role.SDR, team=team, capacity=1000)
    with time_machine.travel(dt.datetime(2026, 6, 15, 9, tzinfo=UTC), tick=False):
        rule = rule_with([month2, full])
        Rep.objects.filter(pk=month2.pk).update(capacity=1000)
        picks = [d.rep for d in route_many(6, "half")]
        assert picks.count(month2) == 2
        assert "inbound weight ×0.5" in RoutingDecision.objects.filter(rep=month2).latest("id").explanation
        Rep.objects.filter(pk=month2.pk).update(ramp_start=today - dt.timedelta(days=3))
        rule.members.update(current_weight=0)
        assert all(d.rep == full and d.skipped[0]["reason"] == "unramped" for d in route_many(2, "skip"))
        roe = RulesOfEngagement.load()
        roe.ramp_inbound = "weight_by_ramp"
        roe.save()
        rule.members.update(current_weight=0, leave_turns=0)
        picks = [d.rep for d in route_many(10, "quarter")]
    assert picks.count(month2) == 2


def test_credits_after_a_returned_duplicate_and_a_no_show(team):
    """Ana's routed lead turns out a duplicate (return approved: merged into her other
    account, which takes over the lead's routing decision) and a meeting she booked there is
    a no-show: two credits, each with its reason, each one turn back in the rotation that
    routed the lead: she is owed 2 turns. The debt is fair share − leads received, so over
    the next 18 leads (6 each) she gets 6 + 2 = 8 and Bo and Cy 5 each, never two in a row.
    In the next distribution her two credits are her first picks: the two best pool accounts."""
    from apps.meetings.services import meeting_disposition
    from apps.meetings.tests.factories import MeetingFactory
    from apps.routing.models import RoutingCredit
    from apps.routing.services import return_approve, return_file

    ana, bo, cy = (RepFactory(role=Rep.Role.SDR, team=team, segment="smb", capacity=50, owner_name=n)
                   for n in ("Ana", "Bo", "Cy"))
    rule = rule_with([ana, bo, cy])
    first = lead_route(contact=lead("x@dupe-co.com"))
    assert first.rep == ana
    survivor = AccountFactory(domain="dupe-corp.com")
    account_set_owner(account=survivor, to_rep=ana, reason="manual")
    request = return_file(account=first.account, rep=ana, reason="duplicate", duplicate_of=survivor)
    return_approve(return_request=request)
    credit = RoutingCredit.objects.get(rep=ana)
    assert (credit.reason, credit.rule, credit.return_request) == ("duplicate", rule, request)
    assert RoutingRuleMember.objects.get(rule=rule, rep=ana).credit_turns == 1
    meeting = MeetingFactory(sdr=ana, account=survivor, contact=ContactFactory(account=survivor),
                             scheduled_at=timezone.now() - dt.timedelta(hours=2))
    meeting_disposition(meeting=meeting, outcome="no_show", actor=meeting.ae)
    assert sorted(RoutingCredit.objects.filter(rep=ana).values_list("reason", flat=True)) == ["duplicate", "meeting_no_show"]
    assert RoutingRuleMember.objects.get(rule=rule, rep=ana).credit_turns == 2
    picks = [d.rep for d in route_many(18, "after")]
    assert Counter(picks) == {ana: 8, bo: 5, cy: 5} and not any(x == y == ana for x, y in zip(picks, picks[1:], strict=False))
    assert RoutingRuleMember.objects.get(rule=rule, rep=ana).credit_turns == 0
    assert any("owed for credits" in d.explanation for d in RoutingDecision.objects.filter(rep=ana))
    pool = [ScoredAccountFactory(segment="smb", total_score=s) for s in (95, 90, 60, 50, 40, 30)]
    account_owners_set(changes=[(pk, None) for pk in Account.objects.filter(owner__in=[ana, bo, cy])
                                .values_list("pk", flat=True)], reason="manual")
    distribution = distribution_run()
    assert set(Account.objects.filter(owner=ana, pk__in=[a.pk for a in pool[:2]]).values_list("pk", flat=True)) == {
        pool[0].pk, pool[1].pk}
    assert RoutingCredit.objects.filter(rep=ana, slot_used_in=distribution).count() == 2


def test_c_level_inbound_goes_past_the_sdr_to_the_partner_ae(team):
    """A rule on the person is checked before the account's owner: a CRO at an account in
    Sam's book goes to Sam's AE partner, the account stays in Sam's book, and the decision
    says which condition matched. A director at the same account still goes to Sam."""
    from apps.leads.models import LeadCycle
    from apps.routing.selectors import title_seniority

    assert [title_seniority(t) for t in ("Chief Revenue Officer", "CEO & Founder", "SVP Sales", "Vice President, IT",
                                         "Director of IT", "Sales Manager", "Engineer", "")] == [
        "c_level", "c_level", "vp", "vp", "director", "manager", "individual", ""]
    sam = RepFactory(role=Rep.Role.SDR, team=team, owner_name="Sam SDR")
    abe = RepFactory(role=Rep.Role.AE, team=team, owner_name="Abe AE")
    sam.ae_partners.add(abe)
    rule_with([sam], name="C-level past the SDR", position=0, strategy=Strategy.PARTNER_AE, seniorities=["c_level"])
    rule_with([sam], name="Fallback", position=10)
    account = AccountFactory(domain="bigco.com")
    account_set_owner(account=account, to_rep=sam, reason="manual")
    cro = lead_route(contact=lead("cro@bigco.com", title="Chief Revenue Officer"))
    assert (cro.outcome, cro.rep, cro.rule.name) == ("rule", abe, "C-level past the SDR")
    assert "matched the lead's title seniority C-level (“Chief Revenue Officer”)" in cro.explanation
    assert "Abe AE, Sam SDR's AE partner" in cro.explanation
    assert LeadCycle.objects.get(contact=cro.contact).rep == abe
    account.refresh_from_db()
    assert account.owner == sam
    director = lead_route(contact=lead("dir@bigco.com", title="Director of IT"))
    assert (director.outcome, director.rep) == ("current_owner", sam)
