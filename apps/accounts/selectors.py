"""Queries over accounts: visibility by role, domain look-ups, an account's history."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from apps.accounts.domains import registrable_domain
from apps.accounts.models import Account, Activity, DomainRegistry, OwnershipEvent, WebmailDomain
from sdrops import config_cache


def _load_webmail_extra_domains() -> frozenset[str]:
    return frozenset(WebmailDomain.objects.values_list("domain", flat=True))


def webmail_extra_domains() -> frozenset[str]:
    """The admin's additions to the webmail list, cached per process (sdrops.config_cache)."""
    return config_cache.cached("accounts.webmail_extra", _load_webmail_extra_domains)


def account_holding_domain(domain: str) -> Account | None:
    """The account that already holds `domain`, as its domain or as an alias."""
    return Account.objects.filter(pk__in=DomainRegistry.objects.filter(domain=domain).values("account_id")).first()


def domain_standing(domain: str) -> tuple[bool, int | None, str]:
    """For a normalized domain, in one query: whether the admin's webmail list has it (or its
    registrable domain), and the id and name of the account holding it as its domain or an
    alias (None, "" when free). The checks every new account domain and alias go through."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (SELECT 1 FROM accounts_webmaildomain w WHERE w.domain = ANY(%s)), a.id, a.name
              FROM (SELECT %s::varchar AS domain) d
              LEFT JOIN accounts_domain_registry r ON r.domain = d.domain
              LEFT JOIN accounts_account a ON a.id = r.account_id
            """,
            [sorted({domain, registrable_domain(domain)}), domain],
        )
        listed, holder_id, holder_name = cursor.fetchone()
    return listed, holder_id, holder_name or ""


def accounts_matching_key(key: str) -> QuerySet[Account]:
    """Accounts a lead with this matching key belongs to (by domain or alias)."""
    return Account.objects.filter(Q(matching_key=key) | Q(aliases__matching_key=key)).distinct()


def account_recent_activities(*, account: Account, limit: int = 20) -> list[Activity]:
    return list(account.activities.select_related("rep", "contact").order_by("-occurred_at", "-id")[:limit])


def account_ownership_history(*, account: Account, limit: int = 50) -> list[OwnershipEvent]:
    return list(
        account.ownership_events.select_related("from_rep", "to_rep", "actor").order_by("-occurred_at", "-id")[:limit]
    )
