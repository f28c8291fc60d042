"""Exports in exactly the columns the imports take, so export → import changes nothing.

Each `*_export_rows(queryset)` yields the header, then one list of values per record, in a
fixed number of queries whatever the size. Write them with `csv_safety.csv_writer` (the
commands and the admin do), which neutralises formula-looking cells.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import F, QuerySet

from apps.accounts.imports.accounts import COLUMNS as ACCOUNT_COLUMNS
from apps.accounts.models import Account
from apps.people.models import Contact, Rep, Segment

CHUNK = 2000


def account_export_rows(queryset: QuerySet[Account]) -> Iterator[list]:
    segments, statuses = dict(Segment.choices), dict(Account.Status.choices)
    yield list(ACCOUNT_COLUMNS)
    rows = (
        queryset.order_by("pk")
        .annotate(owner_name=F("owner__owner_name"), alias_list=ArrayAgg("aliases__domain", order_by="aliases__domain", default=[]))
        .values_list("name", "website", "domain", "industry", "employees", "annual_revenue", "country", "segment",
                     "status", "owner_name", "alias_list")
    )
    for name, website, domain, industry, employees, revenue, country, segment, status, owner, aliases in rows.iterator(chunk_size=CHUNK):
        yield [name, website, domain or "", industry, employees, revenue, country, segments.get(segment, segment),
               statuses.get(status, status), owner or "", ";".join(a for a in aliases if a)]


CONTACT_COLUMNS = ["first_name", "last_name", "email", "title", "persona", "buying_role", "source", "account_domain",
                   "phone", "linkedin_url"]


def contact_export_rows(queryset: QuerySet[Contact]) -> Iterator[list]:
    roles, sources = dict(Contact.BuyingRole.choices), dict(Contact.Source.choices)
    yield list(CONTACT_COLUMNS)
    rows = queryset.order_by("pk").values_list(
        "first_name", "last_name", "email", "title", "persona", "buying_role", "source", "account__domain",
        "phone", "linkedin_url",
    )
    for first, last, email, title, persona, role, source, account_domain, phone, linkedin in rows.iterator(chunk_size=CHUNK):
        yield [first, last, email, title, persona, roles.get(role, role), sources.get(source, source), account_domain or "",
               str(phone or ""), linkedin or ""]


REP_COLUMNS = ["owner_name", "email", "role", "team", "manager", "capacity", "weight", "ramp_start"]


def rep_export_rows(queryset: QuerySet[Rep]) -> Iterator[list]:
    roles = dict(Rep.Role.choices)
    yield list(REP_COLUMNS)
    rows = queryset.order_by("pk").values_list(
        "owner_name", "user__email", "role", "team__name", "manager__owner_name", "capacity", "routing_weight", "ramp_start"
    )
    for name, email, role, team, manager, capacity, weight, ramp in rows.iterator(chunk_size=CHUNK):
        yield [name, email or "", roles.get(role, role), team or "", manager or "", capacity, weight,
               ramp.isoformat() if ramp else ""]


EXPORTERS = {
    "accounts": (Account, account_export_rows),
    "contacts": (Contact, contact_export_rows),
    "reps": (Rep, rep_export_rows),
}

__all__ = ["EXPORTERS", "account_export_rows", "contact_export_rows", "rep_export_rows"]
