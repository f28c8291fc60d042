"""Who sees what: the one access module. Every "which records may this user see" rule —
the user's rep, who sees everything, the reps in a user's scope, and each model's
`*_visible_to(user=...)` queryset — is defined here; admin querysets, forms, the API,
reports and services resolve caller-supplied ids through these, so a hidden object and a
missing one get the same answer.

Why a project-level module (sdrops/) and not apps/people: the rules read the models of
accounts, routing and meetings as well as people's, and every app imports people; an
access module inside people would make the base app import the apps built on it. Here
it sits above the apps and depends only on their models.

The apps' selectors modules re-export the names they used to define, so existing imports
keep working; new code imports from here.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.db.models import Q, QuerySet

from apps.accounts.models import Account, Activity, OwnershipEvent
from apps.cadences.models import FollowUpTask
from apps.campaigns.models import Alarm, CampaignInteraction, NurtureEntry
from apps.leads.models import LeadCycle
from apps.meetings.models import Meeting, Opportunity, RescheduleAttempt
from apps.people.models import Contact, Rep, Team
from apps.routing.models import QueueItem, ReturnRequest, RoutingDecision, RoutingRuleMember


def rep_for_user(user) -> Rep | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.rep
    except Rep.DoesNotExist:
        return None


def user_sees_everything(user) -> bool:
    """Superusers and ops admins see every record; everyone else is scoped."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    rep = rep_for_user(user)
    return rep is not None and rep.role == Rep.Role.OPS


def reps_managed_by(*, rep: Rep) -> QuerySet[Rep]:
    """A manager's people: members of the teams they manage and their direct reports."""
    return Rep.objects.filter(Q(team__manager=rep) | Q(manager=rep)).distinct()


# A manager's scope is a query, and one page asks for it once per box, list and menu (six
# times on the manager's home). Within one read-only request (GET/HEAD: nothing in it moves
# reps between teams) the answer is kept: `ScopeMemoMiddleware` opens a memo per request;
# outside a request (services, tasks, tests calling selectors) every call asks again.
_scope_memo: ContextVar[dict | None] = ContextVar("sdrops_scope_memo", default=None)


def scoped_rep_ids(*, user) -> set[int] | None:
    """The reps whose records `user` may see; None means no limit (ops)."""
    if user_sees_everything(user):
        return None
    rep = rep_for_user(user)
    if rep is None:
        return set()
    if rep.role != Rep.Role.MANAGER:
        return {rep.pk}
    memo = _scope_memo.get()
    if memo is not None and rep.pk in memo:
        return set(memo[rep.pk])
    ids = {rep.pk, *reps_managed_by(rep=rep).values_list("pk", flat=True)}
    if memo is not None:
        memo[rep.pk] = frozenset(ids)
    return ids


def scope_key(*, user) -> tuple:
    """Everything the *_visible_to querysets below take from `user`, as a hashable key: users
    with the same key get the same statements. sdrops.kept_sql keeps scoped statements under
    it, so the key must name each input: whether the user sees everything, and else their rep,
    its role (an AE's accounts, a manager's teams) and the rep ids in scope."""
    if user_sees_everything(user):
        return ("all",)
    rep = rep_for_user(user)
    if rep is None:
        return ("none",)
    return (rep.role, rep.pk, frozenset(scoped_rep_ids(user=user) or ()))


class ScopeMemoMiddleware:
    """Gives each GET/HEAD request its own memo of managers' scopes (see `scoped_rep_ids`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _scope_memo.set({} if request.method in ("GET", "HEAD") else None)
        try:
            return self.get_response(request)
        finally:
            _scope_memo.reset(token)


def reps_visible_to(*, user) -> QuerySet[Rep]:
    ids = scoped_rep_ids(user=user)
    qs = Rep.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    qs = Contact.objects.all()
    if user_sees_everything(user):
        return qs
    return qs.filter(account__in=accounts_visible_to(user=user))


def accounts_visible_to(*, user) -> QuerySet[Account]:
    """Ops: all. Manager: their teams' books. SDR: their own book. AE: accounts they own or
    hold an opportunity or customer relationship on."""
    qs = Account.objects.all()
    if user_sees_everything(user):
        return qs
    rep = rep_for_user(user)
    if rep is None:
        return qs.none()
    if rep.role == Rep.Role.AE:
        return qs.filter(Q(owner=rep) | Q(opportunity_owner=rep) | Q(cs_owner=rep))
    return qs.filter(owner_id__in=scoped_rep_ids(user=user))


def account_visible_to(*, user, account: Account) -> bool:
    """Whether `account` (a row in memory, its owner fields as they are now) is in
    accounts_visible_to(user): the same rule without its query for ops, SDRs and AEs (a
    manager's people cost one). Keep the two in step (tests/test_access_account_row.py)."""
    if user_sees_everything(user):
        return True
    rep = rep_for_user(user)
    if rep is None:
        return False
    if rep.role == Rep.Role.AE:
        return rep.pk in (account.owner_id, account.opportunity_owner_id, account.cs_owner_id)
    return account.owner_id is not None and account.owner_id in scoped_rep_ids(user=user)


def activities_visible_to(*, user) -> QuerySet[Activity]:
    qs = Activity.objects.all()
    if user_sees_everything(user):
        return qs
    return qs.filter(Q(rep_id__in=scoped_rep_ids(user=user)) | Q(account__in=accounts_visible_to(user=user)))


def ownership_events_visible_to(*, user) -> QuerySet[OwnershipEvent]:
    qs = OwnershipEvent.objects.all()
    if user_sees_everything(user):
        return qs
    return qs.filter(account__in=accounts_visible_to(user=user))


def returns_visible_to(*, user) -> QuerySet[ReturnRequest]:
    qs = ReturnRequest.objects.select_related("account", "rep", "duplicate_of", "swap_account", "reviewed_by")
    if user_sees_everything(user):
        return qs
    rep = rep_for_user(user)
    if rep is None:
        return qs.none()
    if rep.role == Rep.Role.MANAGER:
        return qs.filter(Q(rep=rep) | Q(rep__in=reps_managed_by(rep=rep)))
    return qs.filter(rep=rep)


def routing_decisions_visible_to(*, user) -> QuerySet[RoutingDecision]:
    """As the admin's routing decision list: ops see all, others the decisions that went to
    a rep they see."""
    qs = RoutingDecision.objects.all()
    if user_sees_everything(user):
        return qs
    return qs.filter(rep_id__in=scoped_rep_ids(user=user) or [])


def meetings_visible_to(*, user) -> QuerySet[Meeting]:
    """Ops: all. AE: meetings booked for them. SDR: meetings they booked. Manager: their
    own and their people's (as AE or as SDR)."""
    qs = Meeting.objects.all()
    if user_sees_everything(user):
        return qs
    ids = scoped_rep_ids(user=user)
    if not ids:
        return qs.none()
    return qs.filter(Q(ae_id__in=ids) | Q(sdr_id__in=ids))


def opportunities_visible_to(*, user) -> QuerySet[Opportunity]:
    """Ops: all. AE: the ones they own. SDR: the ones they sourced. Manager: their people's."""
    qs = Opportunity.objects.all()
    if user_sees_everything(user):
        return qs
    ids = scoped_rep_ids(user=user)
    if not ids:
        return qs.none()
    return qs.filter(Q(owner_id__in=ids) | Q(sourcing_sdr_id__in=ids))


def reschedule_attempts_visible_to(*, user) -> QuerySet[RescheduleAttempt]:
    qs = RescheduleAttempt.objects.all()
    if user_sees_everything(user):
        return qs
    ids = scoped_rep_ids(user=user)
    return qs.filter(sdr_id__in=ids) if ids else qs.none()


def queue_items_visible_to(*, user) -> QuerySet[QueueItem]:
    """Ops: every queue. Others: the leads waiting in queues their reps (scoped_rep_ids) can
    claim from, and the leads those reps claimed — never another team's queue."""
    qs = QueueItem.objects.all()
    if user_sees_everything(user):
        return qs
    ids = scoped_rep_ids(user=user) or []
    members = RoutingRuleMember.objects.filter(rep_id__in=ids).values("rule_id")
    return qs.filter(Q(rule_id__in=members) | Q(claimed_by_id__in=ids))


def teams_visible_to(*, user):
    if user_sees_everything(user):
        return Team.objects.all()
    rep = rep_for_user(user)
    if rep is None:
        return Team.objects.none()
    if rep.role == Rep.Role.MANAGER:
        return Team.objects.filter(Q(manager=rep) | Q(pk=rep.team_id)).distinct()
    return Team.objects.filter(pk=rep.team_id)


def contacts_for_lead_work(*, user) -> QuerySet:
    """Contacts whose lead page `user` may open and act on: those in their scope (accounts
    in their book) plus those whose open cycle is assigned to a rep they see — an SLA
    re-assignment hands a lead over before the account's book changes."""
    ids = scoped_rep_ids(user=user)
    if ids is None:
        return Contact.objects.all()
    open_for_them = LeadCycle.objects.filter(rep_id__in=ids).open()
    return Contact.objects.filter(
        Q(pk__in=contacts_visible_to(user=user).values("pk")) | Q(pk__in=open_for_them.values("contact_id"))
    )


def lead_cycles_visible_to(*, user):
    """The cycles of the leads `user` may work (the same scope as the admin's lead page)."""
    return LeadCycle.objects.filter(contact__in=contacts_for_lead_work(user=user)).select_related("contact")


def campaign_interactions_visible_to(*, user) -> QuerySet[CampaignInteraction]:
    """Interactions of the contacts the user sees (campaigns themselves are company records)."""
    qs = CampaignInteraction.objects.select_related("campaign", "contact", "lead_cycle")
    if user_sees_everything(user):
        return qs
    return qs.filter(contact__in=contacts_visible_to(user=user))


def nurture_entries_visible_to(*, user) -> QuerySet[NurtureEntry]:
    qs = NurtureEntry.objects.select_related("contact", "program", "new_cycle")
    if user_sees_everything(user):
        return qs
    return qs.filter(contact__in=contacts_visible_to(user=user))


def alarms_visible_to(*, user) -> QuerySet[Alarm]:
    """Alarms about the reps the user sees (a manager: their teams; ops: all)."""
    qs = Alarm.objects.select_related("rep", "manager")
    rep_ids = scoped_rep_ids(user=user)
    return qs if rep_ids is None else qs.filter(rep_id__in=rep_ids)


def follow_ups_visible_to(*, user) -> QuerySet[FollowUpTask]:
    """Follow-up tasks held by the reps the user sees (ops: all)."""
    qs = FollowUpTask.objects.select_related("rep", "contact", "account")
    ids = scoped_rep_ids(user=user)
    return qs if ids is None else qs.filter(rep_id__in=ids)
