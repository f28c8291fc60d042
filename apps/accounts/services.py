"""Every write to accounts: owner changes (with their ownership events) and domains.

`account_owners_set` is the only code that changes `Account.owner`. Imports, distributions,
retrievals, returns, routing, the admin and the API all call it (or `account_set_owner`),
so every change leaves an `OwnershipEvent` in the same transaction. The one other way an
account gets an owner is being inserted with one by a bulk writer (the import), whose
owner columns come from `account_owner_columns_sql` and whose events
`account_owners_record_created` writes, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.domains import is_webmail, normalize_domain
from apps.accounts.events import owners_changed
from apps.accounts.models import Account, DomainAlias, OwnershipEvent, OwnershipReason
from apps.accounts.selectors import domain_standing
from apps.icps.services import account_changed
from apps.people.actors import actor_user
from apps.people.models import Rep


def account_owners_set(
    *,
    changes: Iterable[tuple[int, int | None]],
    reason: str,
    actor=None,
    note: str = "",
    occurred_at: dt.datetime | None = None,
) -> list[OwnershipEvent]:
    """Give each account (by id) its new owner (rep id or None for the pool).

    Accounts whose owner is already the requested one are left alone and get no event, so
    running the same change twice writes nothing the second time. Rows are locked in
    ascending id order with FOR NO KEY UPDATE (which still lets activities be inserted
    against them). An SDR who receives an account also becomes its SDR owner, the
    attribution field that survives later owner changes.
    """
    if reason not in OwnershipReason.values:
        raise ValidationError(f"Unknown ownership reason “{reason}”; expected one of {', '.join(OwnershipReason.values)}.")
    wanted: dict[int, int | None] = {}
    for account_id, rep_id in changes:
        wanted[int(account_id)] = int(rep_id) if rep_id is not None else None
    if not wanted:
        return []
    occurred_at = occurred_at or timezone.now()
    ids = sorted(wanted)
    actor_id = getattr(actor_user(actor), "pk", None)
    # No savepoint: the statement moves nothing unless every account exists, and the refusal
    # is raised after the block, so a refused change leaves the caller's transaction usable.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Lock, move and record in one statement: routing one lead pays one round trip for
        # its owner change instead of three. The locking CTE is materialized (it is read
        # three times), so every row is locked, in ascending id order, before any is
        # written; under READ COMMITTED the lock re-reads a row a concurrent change just
        # committed, so `from_rep_id` is the owner the account really had. One array
        # parameter rather than an IN list: 100,000 ids lock in 0.2 s instead of 1 s.
        cursor.execute(
            f"""
            WITH wanted AS (
                SELECT * FROM unnest(%(ids)s::bigint[], %(owners)s::bigint[]) AS v(id, owner_id)
            ), locked AS (
                SELECT id, owner_id FROM accounts_account WHERE id = ANY(%(ids)s) ORDER BY id FOR NO KEY UPDATE
            ), moving AS (
                SELECT l.id, l.owner_id AS from_rep_id, w.owner_id AS to_rep_id
                  FROM locked l JOIN wanted w ON w.id = l.id
                 WHERE l.owner_id IS DISTINCT FROM w.owner_id
                   AND (SELECT count(*) FROM locked) = cardinality(%(ids)s::bigint[])
            ), moved AS (
                UPDATE accounts_account AS a
                   SET owner_id = m.to_rep_id,
                       owner_since = CASE WHEN m.to_rep_id IS NULL THEN NULL ELSE %(at)s END,
                       sdr_owner_id = {_sdr_owner_sql(rep="r", current="a.sdr_owner_id")},
                       updated_at = %(at)s
                  FROM moving m
                  LEFT JOIN people_rep r ON r.id = m.to_rep_id
                 WHERE a.id = m.id
            ), recorded AS (
                INSERT INTO accounts_ownershipevent
                       (account_id, from_rep_id, to_rep_id, reason, actor_id, occurred_at, note)
                SELECT m.id, m.from_rep_id, m.to_rep_id, %(reason)s, %(actor)s, %(at)s, %(note)s
                  FROM moving m
                 ORDER BY m.id
                RETURNING id, account_id, from_rep_id, to_rep_id
            )
            SELECT l.id, e.id, e.from_rep_id, e.to_rep_id
              FROM locked l LEFT JOIN recorded e ON e.account_id = l.id
             ORDER BY l.id
            """,
            {"ids": ids, "owners": [wanted[pk] for pk in ids], "at": occurred_at, "reason": reason,
             "actor": actor_id, "note": note},
        )
        rows = cursor.fetchall()
        missing = set(wanted) - {row[0] for row in rows}
        if not missing:
            events = _ownership_events(
                [(event_id, pk, from_rep, to_rep) for pk, event_id, from_rep, to_rep in rows if event_id is not None],
                reason=reason, actor=actor, note=note, occurred_at=occurred_at,
            )
            _owner_changes_announce(events)
    if missing:
        raise ValidationError(f"No account with id {', '.join(map(str, sorted(missing)))}.")
    return events


def account_owners_record_created(
    *,
    account_ids: Iterable[int],
    reason: str,
    actor=None,
    note: str = "",
    occurred_at: dt.datetime | None = None,
    accounts_sql: str | None = None,
) -> int:
    """Record the first owner of accounts a bulk writer has just inserted, in this
    transaction, with their owner columns set by `account_owner_columns_sql`: one pool →
    owner event each (what account_owners_set writes when it moves an account out of the
    pool) and the same notifications. Accounts inserted into the pool are skipped. Returns
    the number of events written.

    `accounts_sql`, when given, is a SELECT of the same accounts' ids (`SELECT … AS id`, e.g.
    from the writer's staging table); the insert joins it instead of taking `account_ids` as
    one array parameter (a 100,000-element `id = ANY(…)` was most of an import's owner
    recording). Nothing is read back: listeners get the events as a sequence that reads them
    from the table the first time it is iterated, which no one does when no webhook is
    subscribed.

    This is how a 100,000-row import gives new accounts their owners without updating every
    row it has just inserted (owner_id is indexed, so that update rewrote each row and all
    its index entries: 40% of the import's time).
    """
    if reason not in OwnershipReason.values:
        raise ValidationError(f"Unknown ownership reason “{reason}”; expected one of {', '.join(OwnershipReason.values)}.")
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return 0
    occurred_at = occurred_at or timezone.now()
    actor_id = getattr(actor_user(actor), "pk", None)
    scope = f"JOIN ({accounts_sql}) AS created ON created.id = a.id" if accounts_sql else ""
    where = "" if accounts_sql else "a.id = ANY(%(ids)s) AND"
    params = {"reason": reason, "actor": actor_id, "at": occurred_at, "note": note}
    if not accounts_sql:
        params["ids"] = ids
    with transaction.atomic(), connection.cursor() as cursor:
        # Only the count and the id range come back (not a row per event): enough to read
        # the events back by primary key if a receiver asks for them.
        cursor.execute(
            f"""
            WITH recorded AS (
                INSERT INTO accounts_ownershipevent (account_id, from_rep_id, to_rep_id, reason, actor_id, occurred_at, note)
                SELECT a.id, NULL, a.owner_id, %(reason)s, %(actor)s, %(at)s, %(note)s
                  FROM accounts_account a {scope}
                 WHERE {where} a.owner_id IS NOT NULL
                 ORDER BY a.id
                RETURNING id
            )
            SELECT count(*), min(id), max(id) FROM recorded
            """,
            params,
        )
        written, first_id, last_id = cursor.fetchone()

        def read_back() -> list[OwnershipEvent]:
            # The accounts were created in this transaction, so the events of this id range
            # with this instant and reason are theirs (also when read after commit); a
            # primary-key range, not a 100,000-element `account_id = ANY(…)`.
            with connection.cursor() as reading:
                reading.execute(
                    "SELECT id, account_id, from_rep_id, to_rep_id FROM accounts_ownershipevent"
                    " WHERE id BETWEEN %s AND %s AND from_rep_id IS NULL AND reason = %s AND occurred_at = %s"
                    " ORDER BY account_id, id",
                    [first_id, last_id, reason, occurred_at],
                )
                rows = reading.fetchall()
            return _ownership_events(rows, reason=reason, actor=actor, note=note, occurred_at=occurred_at)

        _owner_changes_announce(_EventsOnDemand(written, read_back), first_owners=True)
    return written


class _EventsOnDemand(Sequence):
    """`count` events, built by `build` on first access; its length needs no building."""

    def __init__(self, count: int, build: Callable[[], list[OwnershipEvent]]):
        self._count, self._build, self._events = count, build, None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if self._events is None:
            self._events = self._build()
        return self._events[index]

    def __iter__(self):
        if self._events is None:
            self._events = self._build()
        return iter(self._events)


def account_owner_columns_sql(*, rep: str, at: str) -> dict[str, str]:
    """Column → SQL for the owner columns of an account inserted with rep row `rep` (a
    people_rep alias whose id may be NULL: the pool) as its first owner at `at`; see
    account_owners_record_created."""
    return {
        "owner_id": f"{rep}.id",
        "owner_since": f"CASE WHEN {rep}.id IS NULL THEN NULL ELSE {at} END",
        "sdr_owner_id": _sdr_owner_sql(rep=rep, current="NULL"),
    }


def _sdr_owner_sql(*, rep: str, current: str) -> str:
    """An SDR who receives an account also becomes its SDR owner, the attribution that
    survives later owner changes; anyone else leaves it as it was."""
    return f"CASE WHEN {rep}.role = '{Rep.Role.SDR.value}' THEN {rep}.id ELSE {current} END"


def _ownership_events(rows, *, reason: str, actor, note: str, occurred_at: dt.datetime) -> list[OwnershipEvent]:
    """OwnershipEvent instances for the (id, account_id, from_rep_id, to_rep_id) rows just
    written, as a query would have returned them. Built through `from_db` (positional field
    values) because keyword construction cost 1 s for an import's 100,000 events."""
    actor_id = getattr(actor_user(actor), "pk", None)
    from_db, db = OwnershipEvent.from_db, connection.alias
    events = [
        from_db(db, None, (event_id, account_id, from_rep_id, to_rep_id, reason, actor_id, occurred_at, note))
        for event_id, account_id, from_rep_id, to_rep_id in rows
    ]
    if actor_id is not None:
        for event in events:
            event.actor = actor
    return events


def _owner_changes_announce(events: Sequence[OwnershipEvent], *, first_owners: bool = False) -> None:
    if not events:
        return
    # Inside the ownership transaction: what receivers write (the webhook outbox) commits or
    # rolls back together with the change. A bulk writer's events stay unbuilt until a
    # receiver iterates them; `first_owners` tells receivers that only care about accounts
    # moving from one rep to another that they need not.
    owners_changed.send(sender=OwnershipEvent, events=events if isinstance(events, _EventsOnDemand) else list(events),
                        first_owners=first_owners)


def account_set_owner(
    *, account: Account, to_rep: Rep | None, reason: str, actor=None, note: str = ""
) -> OwnershipEvent | None:
    """Change one account's owner; returns the event, or None when nothing changed."""
    events = account_owners_set(
        changes=[(account.pk, to_rep.pk if to_rep else None)], reason=reason, actor=actor, note=note
    )
    account.refresh_from_db(fields=["owner", "owner_since", "sdr_owner", "updated_at"])
    return events[0] if events else None


def account_domain_clean(value: str, *, account: Account | None = None,
                         standing: tuple[bool, int | None, str] | None = None) -> str:
    """Normalize a domain for `account` (or a new account) and check it may be used:
    not webmail, not held by another account. Raises ValidationError with the reason.
    `standing`: domain_standing() of the normalized domain when the caller already read it
    in a statement of its own (lead routing reads it with its match)."""
    domain = normalize_domain(value)
    listed_webmail, holder_id, holder_name = standing if standing is not None else domain_standing(domain)
    if listed_webmail or is_webmail(domain):
        raise ValidationError(f"{domain} is a webmail domain and cannot identify an account.")
    if holder_id is not None and (account is None or holder_id != account.pk):
        raise ValidationError(f"{domain} already belongs to the account “{holder_name}” (id {holder_id}).")
    return domain


def account_domain_from_website(website: str, *, account: Account | None = None) -> str:
    """The domain a website names, checked like a typed domain. An account given only a
    website gets its domain from it, as the CSV import does: without a domain no lead or
    signal can ever match the account. Errors are the website's."""
    try:
        return account_domain_clean(website, account=account)
    except ValidationError as error:
        raise ValidationError({"website": [
            f"{message} Give the account's domain, or a website under the company's own domain."
            for message in error.messages
        ]})


def account_create(
    *,
    name: str,
    domain: str | None = None,
    owner: Rep | None = None,
    actor=None,
    reason: str = OwnershipReason.MANUAL,
    standing: tuple[bool, int | None, str] | None = None,
    **fields,
) -> Account:
    """Create an account (domain checked, scored at once, optionally with an owner).

    Every check runs before the first write, so a refusal leaves the caller's transaction
    usable and the writes need no savepoint of their own (a nested call adds none).
    `standing`: see account_domain_clean."""
    if not (name or "").strip():
        raise ValidationError({"name": "An account needs a name."})
    account = Account(name=name.strip(), **fields)
    if domain:
        try:
            account.domain = account_domain_clean(domain, standing=standing)
        except ValidationError as error:
            raise ValidationError({"domain": error.messages})
    elif (fields.get("website") or "").strip():
        account.domain = account_domain_from_website(fields["website"])
    # Unique and check constraints are not re-validated here, each would be a query: the
    # domain was just checked against every account and alias (and the database keeps
    # it unique), and the revenue check is also the field's validator.
    account.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
    with transaction.atomic(savepoint=False):
        account.save()
        _rescore(account)
        if owner is not None:
            account_set_owner(account=account, to_rep=owner, reason=reason, actor=actor)
    return account


def domain_alias_add(*, account: Account, domain: str) -> DomainAlias:
    cleaned = account_domain_clean(domain, account=account)
    if cleaned == account.domain:
        raise ValidationError(f"{cleaned} is already this account's domain.")
    if account.aliases.filter(domain=cleaned).exists():
        raise ValidationError(f"{cleaned} is already an alias of this account.")
    alias = DomainAlias(account=account, domain=cleaned)
    alias.save()
    return alias


ACCOUNT_PLAIN_FIELDS = (
    "name", "website", "keep_subdomain", "industry", "employees", "annual_revenue", "country", "region",
    "technologies", "segment", "status",
)


def account_fields_update(*, account: Account, actor, fields: dict) -> Account:
    """Change an account's descriptive fields and domain (never its owner: that is
    account_set_owner's). Refuses unknown fields."""
    unknown = set(fields) - set(ACCOUNT_PLAIN_FIELDS) - {"domain"}
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    with transaction.atomic():
        locked = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
        for field, value in fields.items():
            if field == "domain":
                if value:
                    try:
                        locked.domain = account_domain_clean(value, account=locked)
                    except ValidationError as error:
                        raise ValidationError({"domain": error.messages})
                else:
                    locked.domain = None
            else:
                setattr(locked, field, value.strip() if field == "name" and isinstance(value, str) else value)
        if not locked.name:
            raise ValidationError({"name": "An account needs a name."})
        locked.full_clean(exclude=["owner"], validate_unique=False)
        locked.save()
        _rescore(locked)
    return locked


def _rescore(account: Account) -> None:
    """Firmographics feed the ICP score: rescore the account in the same transaction."""

    account_changed(account=account)


_UNSET = object()


def account_attribution_set(
    *, account: Account, sdr_owner=_UNSET, opportunity_owner=_UNSET, cs_owner=_UNSET, status: str | None = None
) -> Account:
    """Keep the attribution owners (SDR owner, opportunity owner, customer-success owner)
    in step with the deals on the account; `owner` (the rep working it) is never touched
    here — that goes through `account_owners_set` and its ownership events. Arguments left
    out are left as they are. Used by apps.meetings when opportunities are created, handed
    over or won."""
    fields: dict = {}
    for name, value in (("sdr_owner", sdr_owner), ("opportunity_owner", opportunity_owner), ("cs_owner", cs_owner)):
        if value is not _UNSET:
            fields[f"{name}_id"] = value.pk if value is not None else None
    if status is not None:
        if status not in Account.Status.values:
            raise ValidationError(f"Unknown account status “{status}”.")
        fields["status"] = status
    if not fields:
        return account
    with transaction.atomic():
        Account.objects.select_for_update(no_key=True).filter(pk=account.pk).first()
        Account.objects.filter(pk=account.pk).update(**fields, updated_at=timezone.now())
    account.refresh_from_db(fields=["sdr_owner", "opportunity_owner", "cs_owner", "status", "updated_at"])
    return account
