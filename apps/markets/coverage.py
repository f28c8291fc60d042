"""Account coverage × engagement (the Measurable Lead Model, seed 004), computed by PostgreSQL.

* **Coverage** — the depth of our knowledge of the account: contacts known, and whether they
  cover the buying roles and personas a purchase needs (CoverageSettings, an editable list).
  Covered = at least `min_contacts` contacts and a contact in every required role and persona.
* **Engagement** — frequency and recency of touches with the account's contacts: real
  (non-automated) calls, emails, social touches and meetings logged against a contact of the
  account, and the contacts' replies. Engaged = at least `engaged_min_touches` touches in the
  last `engagement_window_days` and the latest at most `recency_days` old.

The four quadrants, the seed's next step for the account:
  Identify (neither) · Expand reach (engaged, not covered) · Engage (covered, not engaged) · Win (both).

This is the *coverage quadrant*, not the ICP quadrant on Account (`Account.quadrant`, fit ×
timing from scoring): two separate questions, two separate names.

Per lead type (seed 004: "account coverage doesn't apply to inbound leads"): coverage and the
quadrant judge account-based work (outbound and target-account leads, the accounts in a book);
an inbound lead is one raised hand, judged by response time and pick-up rate (lead response
page). Engagement counts touches with every contact, inbound leads included.

Every function annotates a queryset with correlated subqueries on indexed columns (contacts
by account, activities by account and time), so a page or report costs a fixed number of
statements whatever the number of accounts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Case, Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from apps.accounts.models import Account, Activity, ActivityType
from apps.leads.models import LeadCycle, LeadType
from apps.markets.models import CoverageSettings
from apps.people.models import Contact
from sdrops import config_cache
from sdrops.kept_sql import kept_list

TOUCH_TYPES = (ActivityType.CALL, ActivityType.EMAIL, ActivityType.SOCIAL, ActivityType.MEETING, ActivityType.EMAIL_REPLY)


class CoverageQuadrant(models.TextChoices):
    IDENTIFY = "identify", "Identify"
    EXPAND_REACH = "expand_reach", "Expand reach"
    ENGAGE = "engage", "Engage"
    WIN = "win", "Win"


QUADRANT_NEXT_STEP = {
    CoverageQuadrant.IDENTIFY: "Little is known about the account: identify what the organisation looks like and where it is in the buying cycle.",
    CoverageQuadrant.EXPAND_REACH: "Good engagement with a few leads: develop access to the rest of the buying team.",
    CoverageQuadrant.ENGAGE: "The players are known: engage them through marketing or sales efforts.",
    CoverageQuadrant.WIN: "Good engagement across the account, in a buying cycle: win the deal.",
}

# How each metric applies per lead type (shown on the report and the account page).
APPLIES_PER_LEAD_TYPE = [
    ("Coverage", {LeadType.INBOUND: "does not apply — an inbound lead is one raised hand; judge it by response time and pick-up rate",
                  LeadType.OUTBOUND: "applies", LeadType.TARGET_ACCOUNT: "applies"}),
    ("Engagement", {LeadType.INBOUND: "applies (touches with inbound leads count)", LeadType.OUTBOUND: "applies",
                    LeadType.TARGET_ACCOUNT: "applies"}),
    ("Coverage quadrant", {LeadType.INBOUND: "does not apply (needs coverage)", LeadType.OUTBOUND: "applies",
                           LeadType.TARGET_ACCOUNT: "applies"}),
]


@dataclass(frozen=True)
class CoverageRules:
    roles: tuple[str, ...]
    personas: tuple[str, ...]
    min_contacts: int
    window_days: int
    min_touches: int
    recency_days: int

    @classmethod
    def load(cls) -> CoverageRules:
        """The settings as rules, kept per process under the configuration version (every
        record page and the coverage report read them; migration sdrops 0015)."""
        return config_cache.cached("markets.coverage_rules", cls._load)

    @classmethod
    def _load(cls) -> CoverageRules:
        s = CoverageSettings.load()
        return cls(roles=tuple(s.required_buying_roles), personas=tuple(p.strip().lower() for p in s.required_personas if p.strip()),
                   min_contacts=s.min_contacts, window_days=s.engagement_window_days, min_touches=s.engaged_min_touches,
                   recency_days=s.recency_days)

    def definitions(self) -> list[tuple[str, str]]:
        roles = ", ".join(dict(Contact.BuyingRole.choices).get(r, r) for r in self.roles) or "none"
        personas = ", ".join(self.personas) or "none"
        return [
            ("Covered", f"At least {self.min_contacts} contacts known, with a contact in every required buying role "
                        f"({roles}) and persona ({personas})."),
            ("Engaged", f"At least {self.min_touches} touches with the account's contacts in the last {self.window_days} days, "
                        f"the latest at most {self.recency_days} days ago. A touch: a real (not automated) call, email, "
                        "social touch or meeting with a contact of the account, or the contact's reply."),
            *[(label, QUADRANT_NEXT_STEP[q]) for q, label in CoverageQuadrant.choices],
        ]


def _count(qs: QuerySet, field: str = "pk", *, distinct: bool = False):
    return Coalesce(Subquery(qs.order_by().values("account_id").annotate(n=Count(field, distinct=distinct)).values("n")[:1],
                             output_field=IntegerField()), Value(0))


def _touches(now: dt.datetime) -> QuerySet:
    return Activity.objects.filter(account_id=OuterRef("pk"), contact__isnull=False, automated=False, type__in=TOUCH_TYPES,
                                   occurred_at__lte=now)


def with_coverage(qs: QuerySet[Account], *, rules: CoverageRules | None = None, now: dt.datetime | None = None) -> QuerySet[Account]:
    """`qs` annotated with contacts_known, roles_covered, personas_covered, touches,
    contacts_touched, last_touch_at, covered, engaged and coverage_quadrant."""
    rules = rules or CoverageRules.load()
    now = now or timezone.now()
    since = now - dt.timedelta(days=rules.window_days)
    recent = now - dt.timedelta(days=rules.recency_days)
    contacts = Contact.objects.filter(account_id=OuterRef("pk"))
    qs = qs.annotate(
        contacts_known=_count(contacts),
        roles_covered=_count(contacts.filter(buying_role__in=rules.roles), "buying_role", distinct=True) if rules.roles else Value(0),
        personas_covered=(_count(contacts.annotate(p=Lower("persona")).filter(p__in=rules.personas), "p", distinct=True)
                          if rules.personas else Value(0)),
        touches=_count(_touches(now).filter(occurred_at__gte=since)),
        contacts_touched=_count(_touches(now).filter(occurred_at__gte=since), "contact_id", distinct=True),
        last_touch_at=Subquery(_touches(now).order_by().values("account_id").annotate(m=Max("occurred_at")).values("m")[:1]),
    )
    covered = Q(contacts_known__gte=rules.min_contacts, roles_covered__gte=len(rules.roles),
                personas_covered__gte=len(rules.personas))
    engaged = Q(touches__gte=rules.min_touches, last_touch_at__gte=recent)
    return qs.annotate(
        covered=Case(When(covered, then=Value(True)), default=Value(False), output_field=models.BooleanField()),
        engaged=Case(When(engaged, then=Value(True)), default=Value(False), output_field=models.BooleanField()),
    ).annotate(coverage_quadrant=Case(
        When(covered & engaged, then=Value(CoverageQuadrant.WIN.value)),
        When(covered, then=Value(CoverageQuadrant.ENGAGE.value)),
        When(engaged, then=Value(CoverageQuadrant.EXPAND_REACH.value)),
        default=Value(CoverageQuadrant.IDENTIFY.value), output_field=models.CharField(),
    ))


@dataclass
class AccountCoverage:
    contacts_known: int
    roles_required: list[tuple[str, bool]]  # (label, covered)
    personas_required: list[tuple[str, bool]]
    touches: int
    contacts_touched: int
    last_touch_at: dt.datetime | None
    covered: bool
    engaged: bool
    quadrant: str
    funnel: list[tuple[str, int]]  # where the contacts sit in the lead funnel
    rules: CoverageRules

    @property
    def quadrant_label(self) -> str:
        return CoverageQuadrant(self.quadrant).label

    @property
    def funnel_text(self) -> str:
        return " · ".join(f"{label}: {n}" for label, n in self.funnel if n) or "no contacts"

    @property
    def next_step(self) -> str:
        return QUADRANT_NEXT_STEP[CoverageQuadrant(self.quadrant)]


FUNNEL_STAGES = [("none", "No lead cycle"), ("assigned", "Assigned"), ("working", "Working"), ("qualified", "Qualified"),
                 ("nurture", "Nurture"), ("unqualified", "Unqualified")]


def account_coverage(*, account: Account, now: dt.datetime | None = None) -> AccountCoverage:
    """One account's coverage × engagement, with the roles and personas present and its
    contacts by lead-funnel stage (their latest cycle): two queries (the settings are kept, CoverageRules.load)."""
    rules = CoverageRules.load()

    def figures(account_id: int, now: dt.datetime) -> QuerySet:
        return with_coverage(Account.objects.filter(pk=account_id), rules=rules, now=now).values(
            "contacts_known", "touches", "contacts_touched", "last_touch_at", "covered", "engaged", "coverage_quadrant")

    def present(account_id: int) -> QuerySet:
        latest = LeadCycle.objects.filter(contact_id=OuterRef("pk")).order_by("-number")
        return Contact.objects.filter(account_id=account_id).annotate(
            p=Lower("persona"), state=Subquery(latest.values("state")[:1]), disposition=Subquery(latest.values("disposition")[:1]),
        ).values("buying_role", "p", "state", "disposition")[:2000]

    # Compiled once per configuration version (sdrops.kept_sql): building them took longer than running them.
    rows = kept_list("markets.account_coverage", figures, account_id=account.pk, now=now or timezone.now())
    if not rows:
        raise Account.DoesNotExist(f"No account {account.pk}")
    row = rows[0]
    roles, personas, stages = set(), set(), {}
    for contact in kept_list("markets.account_coverage_contacts", present, account_id=account.pk):
        role, persona, state, disposition = contact["buying_role"], contact["p"], contact["state"], contact["disposition"]
        roles.add(role)
        personas.add(persona)
        stage = "none" if state is None else (disposition if state == LeadCycle.State.DISPOSITIONED else state)
        stages[stage] = stages.get(stage, 0) + 1
    role_labels = dict(Contact.BuyingRole.choices)
    return AccountCoverage(
        contacts_known=row["contacts_known"], touches=row["touches"], contacts_touched=row["contacts_touched"],
        last_touch_at=row["last_touch_at"], covered=row["covered"], engaged=row["engaged"],
        quadrant=row["coverage_quadrant"],
        roles_required=[(role_labels.get(r, r), r in roles) for r in rules.roles],
        personas_required=[(p, p in personas) for p in rules.personas],
        funnel=[(label, stages.get(key, 0)) for key, label in FUNNEL_STAGES],
        rules=rules,
    )


def coverage_by_owner(*, rep_ids=None, segment: str | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Per owner: accounts in the book by coverage quadrant, covered, engaged, and leads in the
    funnel (contacts with an open cycle). One statement: the per-account figures are computed
    once in a derived table and counted per owner around it."""
    qs = Account.objects.filter(owner__isnull=False)
    if rep_ids is not None:
        qs = qs.filter(owner_id__in=list(rep_ids))
    if segment:
        qs = qs.filter(segment=segment)
    open_leads = LeadCycle.objects.open().filter(contact__account_id=OuterRef("pk"))
    inner = with_coverage(qs, now=now).annotate(
        in_funnel=Coalesce(Subquery(open_leads.order_by().values("contact__account_id").annotate(n=Count("pk")).values("n")[:1],
                                    output_field=IntegerField()), Value(0)),
    ).order_by().values("owner_id", "coverage_quadrant", "covered", "engaged", "in_funnel")
    sql, params = inner.query.sql_with_params()
    quadrants = [q.value for q in CoverageQuadrant]
    counts = ", ".join(f"count(*) FILTER (WHERE t.coverage_quadrant = %s) AS {q}" for q in quadrants)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.owner_id, count(*) AS accounts, {counts}, count(*) FILTER (WHERE t.covered) AS covered_accounts, "
            "count(*) FILTER (WHERE t.engaged) AS engaged_accounts, COALESCE(sum(t.in_funnel), 0) AS leads_in_funnel "
            f"FROM ({sql}) t GROUP BY t.owner_id",
            [*quadrants, *params],
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


MARKET_COVERAGE_COLUMNS = [
    "name", "domain", "owner", "market_segment", "market_segment_source", "override_reason", "enrolled",
    "icp_quadrant", "coverage_quadrant", "covered", "engaged", "contacts_known", "touches_in_window", "last_touch_at",
]


def market_coverage_export_rows(queryset: QuerySet[Account], *, now: dt.datetime | None = None):
    """The header, then one row per account: its market segment (with source and override
    reason) and coverage × engagement. One statement, read in chunks."""
    yield list(MARKET_COVERAGE_COLUMNS)
    rows = with_coverage(queryset.order_by("pk"), now=now).values_list(
        "name", "domain", "owner__owner_name", "market__segment", "market__override_segment", "market__override_reason",
        "quadrant", "coverage_quadrant", "covered", "engaged", "contacts_known", "touches", "last_touch_at",
    )
    for (name, domain, owner, segment, override, reason, icp_quadrant, quadrant, covered, engaged, known, touches,
         last) in rows.iterator(chunk_size=2000):
        source = "" if not segment else ("override" if override else "rules")
        yield [name, domain or "", owner or "", segment or "", source, reason or "", "yes" if segment == "B" else "no",
               icp_quadrant, quadrant, "yes" if covered else "no", "yes" if engaged else "no", known, touches,
               last.isoformat() if last else ""]
