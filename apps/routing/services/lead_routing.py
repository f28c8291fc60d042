"""Lead-to-account matching and routing: the rule, the pick (rotation, weighted, capacity,
territory, pod), the owner change and the recorded decision; signalled accounts routed at once."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, FilteredRelation, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.accounts.domains import email_domain, is_webmail, normalize_domain, registrable_domain
from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_create, account_owners_set
from apps.icps.models import Quadrant
from apps.leads.models import LeadType
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep
from apps.routing import selectors
from apps.routing.models import (
    QueueItem,
    RoutingDecision,
    RoutingRule,
    Seniority,
    Strategy,
)
from apps.routing.services.common import RoutingError
from apps.routing.services.strategies import (
    _describe_skips,
    _once_per_reason,
    _skip_entry,
    _strategy_pick,
    member_ledger_sql,
)
from sdrops import config_cache

logger = logging.getLogger(__name__)


_NOT_LOOKED_UP = object()


def _account_locked(pk: int) -> Account | None:
    """The account, locked (FOR NO KEY UPDATE), with its owners, its newest open
    opportunity's owner (a join on the open opportunities: no look-up of its own; see
    `_route_account`) and the configuration version (sdrops.config_cache) — one statement."""
    rows = list(
        Account.objects.filter(pk=pk)
        .select_for_update(no_key=True, of=("self",))
        .annotate(
            open_opportunity=FilteredRelation("opportunities", condition=Q(opportunities__is_open=True)),
            config_version=RawSQL(config_cache.version_sql(), []),
            # Whether a rule looks at the person (then the rules are read before the owner).
            person_rules=selectors.person_rule_exists(),
        )
        # Each rep with their user: the answer to the lead's sender names the rep's email.
        .select_related("owner__user", "opportunity_owner__user", "cs_owner__user", "open_opportunity__owner__user")
        .order_by(F("open_opportunity__id").desc(nulls_last=True))[:1]
    )
    if not rows:
        return None
    account = rows[0]
    opportunity = getattr(account, "open_opportunity", None)  # not set when the join found none
    account.open_opportunity_owner = opportunity.owner if opportunity is not None else None
    return account


def account_locked_for_routing(account: Account, *, open_opportunity_owner_id: int | None, config_version) -> Account:
    """Prepare an account the caller locked together with other rows (the SLA job locks
    it with the lead cycle, owners and their users selected) for `lead_route(locked_account=…)`."""
    known = {r.pk: r for r in (account.owner, account.opportunity_owner, account.cs_owner) if r is not None}
    if open_opportunity_owner_id is None:
        account.open_opportunity_owner = None
    else:
        # Almost always the account's AE, selected already; else one look-up.
        account.open_opportunity_owner = known.get(open_opportunity_owner_id) or (
            Rep.objects.select_related("user").get(pk=open_opportunity_owner_id)
        )
    account.config_version = config_version
    return account


def lead_unroutable_reason(contact: Contact) -> str:
    """Why routing would certainly record the lead as unmatched without asking the
    database (no account, and no usable or a webmail email domain); "" when it might route."""
    if contact.account_id:
        return ""
    try:
        domain = email_domain(contact.email)
    except ValidationError as error:
        return f"No usable domain: {' '.join(error.messages)}"
    if is_webmail(domain):
        return f"{domain} is a webmail domain and the lead has no account domain."
    return ""


def _lead_match(*, domain: str, keys: set[str], root: str) -> tuple[int | None, int | None, bool, tuple]:
    """One statement: the configuration version, the best account for the lead's matching
    keys (by domain or alias; an account that keeps its subdomain beats its parent), whether
    the admin's webmail list has the lead's domain, and the standing of the domain a new
    account would get (apps.accounts.selectors.domain_standing, for account_create)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {config_cache.version_sql()},
                   (SELECT a.id FROM accounts_account a
                     -- A UNION of two index look-ups: an OR across the alias join made PostgreSQL scan every account.
                     WHERE a.id IN (SELECT id FROM accounts_account WHERE matching_key = ANY(%(keys)s)
                                    UNION SELECT account_id FROM accounts_domainalias WHERE matching_key = ANY(%(keys)s))
                     ORDER BY a.matching_key <> %(domain)s, a.id LIMIT 1),
                   EXISTS (SELECT 1 FROM accounts_webmaildomain w WHERE w.domain = ANY(%(webmail)s)),
                   EXISTS (SELECT 1 FROM accounts_webmaildomain w WHERE w.domain = ANY(%(root_keys)s)),
                   h.id, h.name
              FROM (SELECT %(root)s::varchar AS domain) d
              LEFT JOIN accounts_domain_registry r ON r.domain = d.domain
              LEFT JOIN accounts_account h ON h.id = r.account_id
            """,
            {"keys": sorted(keys), "domain": domain, "webmail": sorted({domain, registrable_domain(domain)}),
             "root": root, "root_keys": sorted({root, registrable_domain(root)})},
        )
        version, match_id, webmail_listed, root_listed, holder_id, holder_name = cursor.fetchone()
    return version, match_id, webmail_listed, (root_listed, holder_id, holder_name or "")


def _lead_account(*, contact: Contact, account_domain: str, actor) -> tuple[Account | None, bool, str, int | None]:
    """The account a lead belongs to, locked: (account, created, why-unmatched, config version).

    The first statement always reads the configuration version, so every cached setting
    the rest of the routing reads is checked without a statement of its own."""
    if contact.account_id:
        account = _account_locked(contact.account_id)
        if account is None:
            raise Account.DoesNotExist(f"Account {contact.account_id} of {contact} does not exist.")
        return account, False, "", account.config_version
    try:
        domain = normalize_domain(account_domain) if account_domain else email_domain(contact.email)
    except ValidationError as error:
        return None, False, f"No usable domain: {' '.join(error.messages)}", None
    if not account_domain and is_webmail(domain):
        return None, False, f"{domain} is a webmail domain and the lead has no account domain.", None
    keys = {domain, registrable_domain(domain)}
    root = registrable_domain(domain)
    version, match_id, webmail_listed, standing = _lead_match(domain=domain, keys=keys, root=root)
    if match_id is not None:
        account = _account_locked(match_id)
        if account is not None:  # else merged away since the match: a new account is not wanted either
            return account, False, "", version
        return None, False, f"The account matching {domain} was removed while the lead was routed.", version
    if webmail_listed or is_webmail(domain):
        return None, False, f"{domain} is a webmail domain and the lead has no account domain.", version
    name = root.split(".", 1)[0].replace("-", " ").title() or root
    try:
        with config_cache.checked(version):
            account = account_create(name=name, domain=root, actor=actor, standing=standing)
    except ValidationError as error:
        return None, False, f"Could not create an account for {root}: {' '.join(error.messages)}", version
    account.open_opportunity_owner = None  # created just now: it has none
    return account, True, "", version


def _route_account(
    *,
    account: Account,
    contact: Contact | None,
    source: str,
    lead_type: str,
    exclude: frozenset[int],
    reason: str,
    actor,
    on: dt.date,
    created: bool = False,
) -> tuple[RoutingDecision, Rep | None, bool]:
    """Decide who gets `account` (and its lead); move the account when a rule picks a rep.
    Returns (unsaved decision, rep for the lead, whether the account moved). An account
    `created` for this lead has no opportunity yet, so none is looked up."""
    decision = RoutingDecision(contact=contact, account=account, reason=reason, actor=actor_user(actor))
    # Read with the account's lock (_account_locked), or none for an account just created.
    opportunity_owner = getattr(account, "open_opportunity_owner", _NOT_LOOKED_UP)
    if opportunity_owner is _NOT_LOOKED_UP:
        opportunity_owner = None if created else selectors.account_open_opportunity_owner(account=account)
    if opportunity_owner is not None and selectors.rep_available(rep=opportunity_owner, on=on, exclude=exclude):
        decision.outcome, decision.rep = RoutingDecision.Outcome.OPPORTUNITY_OWNER, opportunity_owner
        decision.explanation = f"{account} has an open opportunity owned by {opportunity_owner}."
        return decision, opportunity_owner, False
    if account.status == Account.Status.CUSTOMER:
        for candidate in (account.opportunity_owner, account.cs_owner):
            if candidate is not None and candidate.role != Rep.Role.SDR and selectors.rep_available(rep=candidate, on=on, exclude=exclude):
                decision.outcome, decision.rep = RoutingDecision.Outcome.CUSTOMER_OWNER, candidate
                decision.explanation = f"{account} is a customer: its lead goes to its AE/CSM {candidate}, never to an SDR."
                return decision, candidate, False
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"{account} is a customer with no available AE/CSM; ops must assign the lead."
        return decision, None, False
    person_rule = general = None
    rules_read = False
    if contact is not None and getattr(account, "person_rules", True):
        # A rule on the person (a C-level lead straight to the partner AE) comes before the
        # account's owner; the same statement gives the general rule for later.
        person_rule, general = selectors.routing_rules_for(account=account, source=source, lead_type=lead_type,
                                                           contact=contact)
        rules_read = True
    if person_rule is not None:
        applied = _apply_rule(person_rule, decision=decision, account=account, contact=contact, exclude=exclude,
                              reason=reason, actor=actor, on=on)
        if applied is not None:
            return applied
        decision.rule, decision.strategy = None, ""
    owner = account.owner
    if owner is not None and selectors.rep_available(rep=owner, on=on, exclude=exclude):
        decision.outcome, decision.rep = RoutingDecision.Outcome.CURRENT_OWNER, owner
        decision.explanation = f"{account} is in {owner}'s book." + _describe_skips(decision.skipped)
        return decision, owner, False
    if owner is not None:
        if owner.pk in exclude:
            why = selectors.SKIP_EXCLUDED
        elif not owner.active:
            why = selectors.SKIP_INACTIVE
        else:
            why = selectors.SKIP_OUT_OF_OFFICE
        decision.skipped = _once_per_reason(decision.skipped + [_skip_entry(owner, why)])
    candidate = general if rules_read else selectors.routing_rule_for(
        account=account, source=source, lead_type=lead_type, contact=contact)
    if candidate is None:
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = "No routing rule matches (add a fallback rule with no conditions); ops must assign it."
        return decision, None, False
    return _apply_rule(candidate, decision=decision, account=account, contact=contact, exclude=exclude, reason=reason,
                       actor=actor, on=on, final=True)


def _person_match(rule: RoutingRule, contact: Contact | None) -> str:
    if contact is None or not selectors.rule_has_person_conditions(rule):
        return ""
    parts = []
    if rule.seniorities:
        parts.append(f"title seniority {Seniority(selectors.title_seniority(contact.title)).label} (“{contact.title}”)")
    if rule.personas:
        parts.append(f"persona “{contact.persona}”")
    return " matched the lead's " + " and ".join(parts)


def _apply_rule(candidate, *, decision: RoutingDecision, account: Account, contact, exclude, reason, actor, on,
                final: bool = False):
    """Apply one matching rule. Returns (decision, rep, moved); a person rule that finds
    nobody returns None (not `final`), so the owner and the general rules still apply."""
    rule = candidate.rule
    decision.rule, decision.strategy = rule, rule.strategy
    matched = _person_match(rule, contact)
    if rule.strategy == Strategy.QUEUE and reason == OwnershipReason.SLA_REASSIGNMENT:
        if not final:
            return None
        # A lead whose clock already lapsed must not wait again for someone to claim it.
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"Rule “{rule}” is a claim queue; an SLA re-assignment needs a rep now."
        return decision, None, False
    if rule.strategy == Strategy.QUEUE:
        decision.outcome = RoutingDecision.Outcome.QUEUED
        decision.explanation = f"Rule “{rule}”{matched}: queued for its reps to claim, oldest first."
        return decision, None, False
    pick = _strategy_pick(candidate, account=account, on=on, exclude=exclude)
    decision.skipped = _once_per_reason(decision.skipped + pick.skipped)
    strategy_label = Strategy(rule.strategy).label
    rep = pick.picked
    if rep is None:
        if not final:
            return None
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"Rule “{rule}” ({strategy_label}): no rep available.{_describe_skips(decision.skipped)}"
        return decision, None, False
    decision.outcome, decision.rep = RoutingDecision.Outcome.RULE, rep
    decision.rotation_ledger = pick.ledger  # stored with the decision (_decision_insert)
    extra = f" ({pick.note})" if pick.note else ""
    decision.explanation = f"Rule “{rule}” ({strategy_label}){matched} picked {rep}{extra}.{_describe_skips(decision.skipped)}"
    if rule.strategy == Strategy.PARTNER_AE:
        # Past the SDR: the lead goes to the AE, the account stays in its book.
        return decision, rep, False
    account_owners_set(changes=[(account.pk, rep.pk)], reason=reason, actor=actor, note=f"Routing rule “{rule}”")
    account.owner = rep  # as the database has it now (callers decide who may see the account from it)
    return decision, rep, True


def lead_route(
    *,
    contact: Contact,
    actor=None,
    exclude_reps=(),
    reason: str = OwnershipReason.SIGNAL,
    lead_type: str = LeadType.INBOUND,
    account_domain: str = "",
    open_cycle: bool | None = None,
    locked_account: Account | None = None,
) -> RoutingDecision:
    """Route one lead: match it to its account, pick its rep, record why. Stable API.

    Matching: the contact's account if it has one, else the account whose domain or alias
    has the lead email's matching key (an account that keeps its subdomain wins), else a
    new account from the email's registrable domain. A webmail address needs
    `account_domain`; without it the lead goes to the unmatched queue (outcome unmatched).

    Then, in order: an open opportunity's owner; a customer's AE/CSM (never an SDR); the
    account's current owner if active and not out of office; otherwise the first matching
    routing rule's strategy picks a rep and the account moves to them with ownership
    reason `reason` (signal by default; sla_reassignment for SLA re-assignment).

    `exclude_reps` (reps or ids) are never picked: the SLA job passes the rep whose clock
    lapsed. A lead cycle is opened (assigned_at = now) for the chosen rep unless
    `open_cycle` is False; by default it is False only for reason sla_reassignment, where
    the caller re-points its existing cycle at `decision.rep`.

    `locked_account`: the contact's account, already locked by the caller in its
    transaction (FOR NO KEY UPDATE, owners selected, `open_opportunity_owner` and
    `config_version` set, as `account_locked_for_routing` leaves it): the SLA job locks it
    with the cycle, so routing does not look it up again.

    Returns the saved RoutingDecision (`rep` is None when queued or left for ops).
    """
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    if open_cycle is None:
        open_cycle = reason != OwnershipReason.SLA_REASSIGNMENT
    on = selectors.today()
    # No savepoint: nothing here is caught and retried inside the transaction, so a failure
    # rolls back with the caller's transaction (or this one, when called on its own).
    with transaction.atomic(savepoint=False):
        if locked_account is not None:
            account, created, unmatched, version = locked_account, False, "", locked_account.config_version
        else:
            account, created, unmatched, version = _lead_account(contact=contact, account_domain=account_domain, actor=actor)
        if account is None:
            return RoutingDecision.objects.create(
                contact=contact, outcome=RoutingDecision.Outcome.UNMATCHED, reason=reason, explanation=unmatched,
                actor=actor_user(actor),
            )
        with config_cache.checked(version):
            move_contact = contact.account_id != account.pk
            if move_contact:
                contact.account = account
            decision, rep, _moved = _route_account(
                account=account, contact=contact, source=contact.source, lead_type=lead_type,
                exclude=exclude, reason=reason, actor=actor, on=on, created=created,
            )
            decision.account_created = created
            if created:
                decision.explanation = f"New account {account} created from {account.domain}. " + decision.explanation
            _decision_insert(decision, contact_account=account.pk if move_contact else None)
            if decision.outcome == RoutingDecision.Outcome.QUEUED:
                QueueItem.objects.get_or_create(contact=contact, claimed_at=None, defaults={"rule": decision.rule, "account": account})
            if rep is not None and open_cycle:
                decision.cycle = lead_cycle_open(contact=contact, rep=rep, lead_type=lead_type, source=contact.source)
    return decision


def _decision_insert(decision: RoutingDecision, *, contact_account: int | None) -> None:
    """Save the new decision in one statement with what belongs to it, as data-modifying
    CTEs: with `contact_account`, the lead's contact pointed at that account; after a
    rotation pick, the rule members' new rotation state (the fair-books weight ledger,
    strategies.member_ledger_sql), so a pick's ledger is written exactly when its decision is."""
    ctes, params = [], []
    if contact_account is not None:
        ctes.append("contact AS (UPDATE people_contact SET account_id = %s WHERE id = %s)")
        params += [contact_account, decision.contact_id]
    ledger = getattr(decision, "rotation_ledger", None)
    if ledger:
        sql, ledger_params = member_ledger_sql(ledger)
        ctes.append(sql)
        params += ledger_params
    if not ctes:
        decision.save()
        return
    fields = [f for f in RoutingDecision._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    params += [f.get_db_prep_save(f.pre_save(decision, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {', '.join(ctes)} "
            f"INSERT INTO routing_routingdecision ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",  # noqa: S608
            params,
        )
        decision.pk = cursor.fetchone()[0]
    decision._state.adding = False
    decision._state.db = connection.alias
    decision.rotation_ledger = None


def account_route(*, account: Account, actor=None, reason: str = OwnershipReason.SIGNAL, exclude_reps=()) -> RoutingDecision:
    """Route an account with a new timing signal (no lead) through the same precedence and rules."""
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    with transaction.atomic():
        locked = Account.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "owner", "opportunity_owner", "cs_owner"
        ).get(pk=account.pk)
        decision, _rep, _moved = _route_account(
            account=locked, contact=None, source="", lead_type=LeadType.OUTBOUND,
            exclude=exclude, reason=reason, actor=actor, on=selectors.today(),
        )
        _decision_insert(decision, contact_account=None)
    return decision


def accounts_route_signalled(*, account_ids, now: dt.datetime | None = None) -> list[RoutingDecision]:
    """Route pool accounts that a new timing signal put in the Good Place (an ICP fit, in
    market) to a rep with capacity now, through the routing rules (ownership reason signal),
    instead of leaving them for the next distribution. Accounts owned, resting, held for
    data fixing, disqualified, customers or not in the Good Place stay where they are, so a
    second run routes nothing. Each account is routed in its own transaction."""

    now = now or timezone.now()
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return []
    candidates = (
        selectors.pool_accounts(segment=None, now=now)
        .filter(pk__in=ids, quadrant=Quadrant.GOOD_PLACE)
        .values_list("pk", flat=True)
    )
    decisions = []
    for pk in list(candidates):
        with transaction.atomic():
            # Still in the pool under the lock: a distribution or a lead may have taken it.
            account = Account.objects.select_for_update(no_key=True, of=("self",)).filter(pk=pk, owner__isnull=True).first()
            if account is not None:
                decisions.append(account_route(account=account, reason=OwnershipReason.SIGNAL))
    return decisions


def signalled_accounts_route_later(account_ids: list[int]) -> None:
    """Hooked to apps.icps (runs after a signal commits): queue the routing of the accounts."""
    from django_q.tasks import async_task

    async_task("apps.routing.tasks.route_signalled_accounts", list(account_ids), task_name="route signalled accounts")


def pick_rep(*, account: Account, source: str = "", lead_type: str = LeadType.INBOUND, exclude_reps=()) -> Rep | None:
    """Preview only: who the routing rules would pick for `account` now, without moving
    anything or advancing round-robin positions (a pick writes nothing itself: a rotation's
    new state is stored only with a recorded decision)."""
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    candidate = selectors.routing_rule_for(account=account, source=source, lead_type=lead_type)
    if candidate is None or candidate.rule.strategy == Strategy.QUEUE:
        return None
    return _strategy_pick(candidate, account=account, on=selectors.today(), exclude=exclude).picked


def routing_decision_retry(*, decision: RoutingDecision, actor=None) -> RoutingDecision:
    """Route a lead from the ops queue again (after ops set its account, added a rule or
    a rep came back). The old decision is marked dealt with once the lead found a rep or
    a queue; the new decision is returned either way."""
    with transaction.atomic():
        locked = RoutingDecision.objects.select_for_update(of=("self",)).select_related("contact").get(pk=decision.pk)
        if locked.resolved_at is not None:
            raise RoutingError("This lead was already dealt with.")
        if locked.contact is None:
            raise RoutingError("This decision has no lead to route.")
        if lead_cycle_current(contact=locked.contact) is not None:
            raise RoutingError(f"{locked.contact} is already assigned.")
        retried = lead_route(contact=locked.contact, actor=actor)
        if retried.outcome not in (RoutingDecision.Outcome.UNMATCHED, RoutingDecision.Outcome.NO_REP):
            locked.resolved_at = timezone.now()
            locked.save(update_fields=["resolved_at"])
    return retried
