"""A believable demo organisation, deterministic for a given --seed.

2 teams with a manager each, 10 SDRs (two ramping, one out of office), 5 AEs, 1 ops admin;
--accounts accounts (2,000 by default) with domains, some aliases, firmographics and about
half of them owned; ~3 contacts per account; 90 days of activities; inbound lead cycles.
Large runs (--accounts 200000, for benchmarks) write with COPY, not row by row.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from apps.accounts.domains import matching_key
from apps.accounts.models import Account, ActivityType, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.cadences.demo import demo_enrolments
from apps.campaigns.models import AlarmSettings
from apps.campaigns.services import campaigns_from_free_text
from apps.icps.demo import icps_demo_create
from apps.leads.models import DispositionReason, LeadCycle, LeadType
from apps.leads.services import lead_cycles_sla_backfill
from apps.markets.demo import markets_demo_create
from apps.meetings.demo import demo_meetings, demo_qualified_meetings
from apps.meetings.demo_deals import demo_deal_outcomes
from apps.people.models import Contact, Rep, Segment, Team
from apps.people.roles import ROLE_GROUP
from apps.routing.demo import routing_demo_create
from apps.workspace.demo import demo_ready_work, schedules_start_from

INDUSTRIES = [
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education", "Logistics",
    "Media", "Telecommunications", "Energy", "Government", "Professional Services", "Biotech", "Real Estate",
]
COUNTRIES = [
    ("United States", "NA", 40), ("Canada", "NA", 6), ("United Kingdom", "EMEA", 12), ("Germany", "EMEA", 9),
    ("France", "EMEA", 6), ("Netherlands", "EMEA", 4), ("Sweden", "EMEA", 2), ("Spain", "EMEA", 3),
    ("Australia", "APAC", 5), ("Japan", "APAC", 3), ("Singapore", "APAC", 2), ("India", "APAC", 4),
    ("Brazil", "LATAM", 3), ("Mexico", "LATAM", 1),
]
TLDS = {"United Kingdom": "co.uk", "Germany": "de", "France": "fr", "Netherlands": "nl", "Sweden": "se",
        "Spain": "es", "Australia": "com.au", "Japan": "co.jp", "Singapore": "com.sg", "India": "in",
        "Brazil": "com.br", "Mexico": "com.mx", "Canada": "ca"}
TECHNOLOGIES = ["Salesforce", "HubSpot", "Marketo", "Eloqua", "Pardot", "Outreach", "Salesloft", "Gong",
                "Snowflake", "AWS", "Azure", "GCP", "Zendesk", "Slack", "Workday", "SAP", "Oracle", "Segment"]
PERSONAS = ["Marketing leader", "Sales leader", "RevOps", "IT", "Finance", "Executive", "Operations", "Engineering"]
TITLES = {
    "Marketing leader": ["VP Marketing", "Head of Demand Generation", "CMO", "Marketing Operations Manager"],
    "Sales leader": ["VP Sales", "Head of Sales Development", "CRO", "Sales Director"],
    "RevOps": ["Revenue Operations Manager", "Director of RevOps", "Sales Operations Analyst"],
    "IT": ["CIO", "IT Director", "Systems Administrator"],
    "Finance": ["CFO", "Controller", "Procurement Manager"],
    "Executive": ["CEO", "COO", "Founder"],
    "Operations": ["Head of Operations", "Operations Manager"],
    "Engineering": ["CTO", "VP Engineering", "Engineering Manager"],
}
BUYING_ROLES = (["decision_maker"] * 2 + ["champion"] * 2 + ["influencer"] * 3 + ["user"] * 3 + ["blocker", "other"])
SOURCES = ["inbound"] * 3 + ["outbound"] * 5 + ["event", "partner"]
ACTIVITY_MIX = ([ActivityType.EMAIL] * 10 + [ActivityType.CALL] * 8 + [ActivityType.SOCIAL] * 3
                + [ActivityType.NOTE] * 2 + [ActivityType.ACCOUNT_VIEWED] * 3 + [ActivityType.MEETING]
                + [ActivityType.CONTACT_ADDED] + [ActivityType.INTELLIGENCE_RUN] + [ActivityType.DEAL_CREATED] * 0)
SUBJECTS = {
    "email": ["Intro email", "Follow-up", "Case study", "Checking in", "Event invite"],
    "call": ["Cold call", "Discovery call", "Left voicemail", "Connected — call back next week"],
    "social": ["LinkedIn connection", "LinkedIn InMail", "Commented on post"],
    "meeting": ["Intro meeting", "Discovery meeting"],
    "note": ["Research note", "Org chart updated"],
    "account_viewed": ["Viewed account"],
    "contact_added": ["Added contact"],
    "intelligence_run": ["Ran account intelligence"],
}

CAMPAIGNS = ["Demo request form", "Pricing page", "Webinar: pipeline math", "Content download", "Free trial"]

USERS_DOC = [
    ("ops", "ops admin — sees and does everything"),
    ("manager.east", "SDR manager of the East team"),
    ("sdr1", "SDR on the East team (sees only their own book)"),
    ("ae1", "AE (meetings booked for them, their opportunities)"),
]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower().replace("&", "and"))[:40] or "company"


def _copy(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


class Command(BaseCommand):
    help = "Load the demo organisation (deterministic for a given --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--days", type=int, default=90, help="Days of activity history.")
        parser.add_argument("--reset", action="store_true", help="Delete existing organisation data first.")

    def handle(self, *args, **options):
        started = time.monotonic()
        if get_user_model().objects.exists() or Account.objects.exists():
            if not options["reset"]:
                raise CommandError("The database already has data; run with --reset to replace it with the demo.")
            self._reset()
        rng = random.Random(options["seed"])
        fake = Faker()
        fake.seed_instance(options["seed"])
        now = timezone.now().replace(microsecond=0)
        with transaction.atomic():
            reps = self._people(rng, fake, options["accounts"], now)
            self.stdout.write(f"people: {len(reps['sdr'])} SDRs, {len(reps['ae'])} AEs, 2 managers, 1 ops")
            accounts = self._accounts(rng, fake, options["accounts"], now)
            self.stdout.write(f"accounts: {len(accounts)}")
            self._owners(rng, accounts, reps, now)
            contacts = self._contacts(rng, fake, accounts)
            self.stdout.write(f"contacts: {len(contacts)}")
            n_activities, n_cycles = self._activities_and_cycles(rng, accounts, contacts, reps, now, options["days"])
            self.stdout.write(f"activities: {n_activities}, lead cycles: {n_cycles}")
            self.stdout.write(f"cadence enrolments: {demo_enrolments(rng=rng, sdrs=reps['sdr'], now=now)}")
            self.stdout.write(f"meetings: {demo_meetings(rng=rng, sdrs=reps['sdr'], now=now)}")
            sqls, opps = demo_qualified_meetings(rng=rng, cycles=self.to_qualify, now=now)
            self.stdout.write(f"qualified meetings (SQLs): {sqls}, opportunities in the pipeline: {opps}")
            # On a copy of the generator's state: the deals' draws leave the rest of the demo as it was.
            deals_rng = random.Random()
            deals_rng.setstate(rng.getstate())
            alarms = AlarmSettings.load()
            deals = demo_deal_outcomes(rng=deals_rng, now=now, iqm_days=alarms.iqm_pending_days,
                                       dark_days=alarms.sao_dark_days, dark_calls=alarms.sao_dark_calls,
                                       dark_emails=alarms.sao_dark_emails)
            self.stdout.write("deals after the meetings: " + ", ".join(f"{n} {what}" for what, n in sorted(deals.items())))
            routing_rules = routing_demo_create(sdrs=reps["sdr"], capacity=reps["sdr"][0].capacity)
            self.stdout.write(f"routing rules: {routing_rules}")
            # ICPs last: scoring needs the accounts, and their signals make readiness.
            self.stdout.write(f"ICP signals: {icps_demo_create(rng=rng, now=now)} (accounts scored)")
            # After scoring: the market segment rules read ICP fit; distributions read the segments.
            markets = markets_demo_create()
            self.stdout.write(f"market segments: {markets['classified']} accounts classified, {markets['enrolled']} enrolled (B)")
            ready = demo_ready_work(rng=rng, reps=reps, now=now)
            self.stdout.write("ready to try: " + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in ready.items()))
            self.stdout.write(f"schedules starting from now (nothing replayed): {schedules_start_from(now)}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"Demo organisation loaded in {time.monotonic() - started:.1f} s."))
        self.stdout.write(f"Logins (password “{settings.DEMO_PASSWORD}”): " + ", ".join(u for u, _ in USERS_DOC))

    def _reset(self):
        tables = [
            m._meta.db_table
            for m in [Account, Contact, LeadCycle, Rep, Team]
        ] + ["accounts_activity", "accounts_ownershipevent", "accounts_domainalias", "accounts_domain_registry", "auth_user"]
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")

    # -- people -------------------------------------------------------------------------
    def _people(self, rng, fake, n_accounts, now):
        User = get_user_model()
        password = make_password(settings.DEMO_PASSWORD)
        groups = {name: Group.objects.get(name=name) for name in ROLE_GROUP.values()}
        today = timezone.localdate()

        def rep(username, full_name, role, team=None, **fields):
            first, last = full_name.split(" ", 1)
            user = User.objects.create(
                username=username, first_name=first, last_name=last, email=f"{username}@sdrops.example",
                is_staff=True, password=password,
            )
            user.groups.add(groups[ROLE_GROUP[role]])
            return Rep.objects.create(user=user, owner_name=full_name, role=role, team=team, **fields)

        ops = rep("ops", "Olivia Ops", Rep.Role.OPS, capacity=0, time_zone="Europe/London")
        teams, managers = [], []
        for name, manager_name, tz in [("East", "Maya Manager", "America/New_York"),
                                       ("West", "Wes Manager", "America/Los_Angeles")]:
            team = Team.objects.create(name=name)
            manager = rep(f"manager.{name.lower()}", manager_name, Rep.Role.MANAGER, team, capacity=0, time_zone=tz)
            team.manager = manager
            team.save()
            teams.append(team)
            managers.append(manager)
        # Each SDR's book holds about half of all accounts / 10 SDRs, with headroom.
        capacity = max(20, math.ceil(n_accounts * 0.5 / 10 * 1.2))
        segments = [Segment.SMB, Segment.SMB, Segment.MID_MARKET, Segment.MID_MARKET, Segment.ENTERPRISE]
        aes = []
        for i in range(5):
            team = teams[i % 2]
            aes.append(rep(f"ae{i + 1}", fake.unique.name(), Rep.Role.AE, team, manager=team.manager,
                           segment=segments[i], capacity=0, time_zone=team.manager.time_zone))
        sdrs = []
        for i in range(10):
            team = teams[i % 2]
            fields = {"segment": segments[i % 5], "capacity": capacity, "manager": team.manager,
                      "time_zone": team.manager.time_zone, "routing_weight": rng.choice([1, 1, 1, 1.5, 2])}
            if i == 7:
                fields["ramp_start"] = today - dt.timedelta(days=20)  # month 1: 0%
            if i == 8:
                fields["ramp_start"] = today - dt.timedelta(days=45)  # month 2: 50%
            if i == 9:
                fields["out_of_office_from"] = today - dt.timedelta(days=2)
                fields["out_of_office_to"] = today + dt.timedelta(days=5)
            sdr = rep(f"sdr{i + 1}", fake.unique.name(), Rep.Role.SDR, team, **fields)
            sdr.ae_partners.add(aes[i // 2])
            sdrs.append(sdr)
        return {"sdr": sdrs, "ae": aes, "manager": managers, "ops": ops}

    # -- accounts -----------------------------------------------------------------------
    def _accounts(self, rng, fake, n, now):
        countries = [c for c, _, w in COUNTRIES for _ in range(w)]
        region_of = {c: r for c, r, _ in COUNTRIES}
        used, rows = set(), []
        for i in range(n):
            name = fake.company()
            country = rng.choice(countries)
            base = _slug(name)
            domain = f"{base}.{TLDS.get(country, 'com')}"
            if domain in used:
                domain = f"{base}{i}.{TLDS.get(country, 'com')}"
            used.add(domain)
            industry = rng.choice(INDUSTRIES)
            employees = int(min(250_000, max(5, rng.lognormvariate(5.3, 1.6))))
            if industry == "Government":
                segment = Segment.PUBSEC
            elif employees < 200:
                segment = Segment.SMB
            elif employees < 2000:
                segment = Segment.MID_MARKET
            else:
                segment = Segment.ENTERPRISE
            revenue = round(employees * rng.uniform(80_000, 320_000), -3)
            status = rng.choices(["prospect", "active", "customer", "disqualified"], [78, 12, 6, 4])[0]
            techs = sorted(rng.sample(TECHNOLOGIES, rng.randint(0, 5)))
            created = now - dt.timedelta(days=rng.randint(91, 720), seconds=rng.randint(0, 86_399))
            rows.append((name[:255], f"https://www.{domain}/", domain, matching_key(domain), False, industry,
                         employees, revenue, country, region_of[country], "{" + ",".join(techs) + "}", segment,
                         status, 0, 0, 0, 0, "", "", created, created))
        columns = ["name", "website", "domain", "matching_key", "keep_subdomain", "industry", "employees",
                   "annual_revenue", "country", "region", "technologies", "segment", "status", "fit_score",
                   "opportunity_score", "readiness_score", "total_score", "tier", "quadrant", "created_at",
                   "updated_at"]
        _copy("accounts_account", columns, rows)
        accounts = list(Account.objects.order_by("pk").values("pk", "domain", "segment", "status", "country"))
        aliases = []
        for account in accounts:
            if rng.random() < 0.1:
                root = account["domain"].split(".", 1)[0]
                for tld in rng.sample(["net", "io", "co", "org"], rng.randint(1, 2)):
                    alias = f"{root}.{tld}"
                    if alias not in used:
                        used.add(alias)
                        aliases.append((account["pk"], alias, matching_key(alias), now))
        _copy("accounts_domainalias", ["account_id", "domain", "matching_key", "created_at"], aliases)
        return accounts

    def _owners(self, rng, accounts, reps, now):
        by_segment: dict[str, list[Rep]] = {}
        for sdr in reps["sdr"]:
            if sdr.ramp_start is None:
                by_segment.setdefault(sdr.segment, []).append(sdr)
        everyone = [s for group in by_segment.values() for s in group]
        changes = []
        for account in accounts:
            if account["status"] == "disqualified" or rng.random() >= 0.5:
                continue
            pool = by_segment.get(account["segment"]) or everyone
            owner = rng.choice(pool)
            account["owner_id"] = owner.pk
            changes.append((account["pk"], owner.pk))
        account_owners_set(changes=changes, reason=OwnershipReason.IMPORT, note="Demo import",
                           occurred_at=now - dt.timedelta(days=95))
        ae_cycle = reps["ae"]
        with connection.cursor() as cursor:
            customers = [a["pk"] for a in accounts if a["status"] == "customer"]
            cursor.execute(
                "UPDATE accounts_account SET cs_owner_id = %s, opportunity_owner_id = "
                "(%s::bigint[])[1 + (id %% %s)] WHERE id = ANY(%s)",
                [reps["manager"][0].pk, [ae.pk for ae in ae_cycle], len(ae_cycle), customers],
            )

    # -- contacts, activities, lead cycles ------------------------------------------------
    def _contacts(self, rng, fake, accounts):
        rows, seen = [], set()
        first_names = [fake.first_name() for _ in range(400)]
        last_names = [fake.last_name() for _ in range(600)]
        now = timezone.now()
        for account in accounts:
            for _ in range(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])):
                first, last = rng.choice(first_names), rng.choice(last_names)
                email = f"{_slug(first)}.{_slug(last)}@{account['domain']}"
                if email in seen:
                    continue
                seen.add(email)
                persona = rng.choice(PERSONAS)
                # Fictional ranges (555-01xx in North America, 020 7946 0xxx in London), so
                # nobody real is ever dialled from the demo.
                if rng.random() < 0.8:
                    if account["country"] in ("United States", "Canada"):
                        phone = f"+1{rng.choice(['212', '312', '415', '617', '206', '416'])}55501{rng.randint(0, 99):02d}"
                    else:
                        phone = f"+4420794600{rng.randint(0, 99):02d}"
                else:
                    phone = ""
                linkedin = f"https://www.linkedin.com/in/{_slug(first)}-{_slug(last)}-{rng.randint(100, 999)}" if rng.random() < 0.7 else ""
                rows.append((first, last, email, rng.choice(TITLES[persona]), persona, rng.choice(BUYING_ROLES),
                             rng.choice(SOURCES), account["pk"], phone, linkedin, now, now))
        _copy("people_contact", ["first_name", "last_name", "email", "title", "persona", "buying_role", "source",
                                 "account_id", "phone", "linkedin_url", "created_at", "updated_at"], rows)
        return list(Contact.objects.order_by("pk").values("pk", "account_id", "source"))

    def _activities_and_cycles(self, rng, accounts, contacts, reps, now, days):
        owner_of = {a["pk"]: a.get("owner_id") for a in accounts}
        contacts_of: dict[int, list[dict]] = {}
        for contact in contacts:
            contacts_of.setdefault(contact["account_id"], []).append(contact)
        activities, cycles = [], []
        sdrs = [s.pk for s in reps["sdr"] if not s.is_out_of_office()]
        # Each SDR qualifies their leads at their own rate around the 25% MQL→SQL target (a
        # couple below the warning line, a couple well above), so the funnel reports show a
        # team with differences rather than one diagnosis for everyone. A qualified lead is
        # one whose meeting the AE completed as qualified: those cycles stay "working" here
        # and apps.meetings.demo.demo_qualified_meetings books and dispositions the meeting.
        rates = [0.34, 0.28, 0.25, 0.22, 0.12, 0.31, 0.26, 0.18, 0.24, 0.29]
        qualify_rate = {s.pk: rates[i % len(rates)] for i, s in enumerate(reps["sdr"])}
        self.to_qualify: list[tuple[int, int, dt.datetime]] = []
        for account_id, owner_id in owner_of.items():
            people = contacts_of.get(account_id, [])
            if owner_id is not None:
                for _ in range(rng.randint(3, 12)):
                    kind = rng.choice(ACTIVITY_MIX)
                    contact = rng.choice(people)["pk"] if people and kind not in ("account_viewed", "intelligence_run") else None
                    when = now - dt.timedelta(days=rng.uniform(0, days))
                    automated = kind == "email" and rng.random() < 0.3
                    activities.append((kind, owner_id, account_id, contact, when, automated,
                                       rng.choice(SUBJECTS.get(kind, ["Activity"])), when))
            for contact in people:
                if contact["source"] != "inbound":
                    continue
                rep_id = owner_id or rng.choice(sdrs)
                assigned = now - dt.timedelta(days=rng.uniform(0, days))
                roll = rng.random()
                touch = assigned + dt.timedelta(hours=rng.lognormvariate(0.8, 1.3))
                if touch > now:
                    roll = 0.0
                qualifies = roll >= 0.04 and rng.random() < qualify_rate.get(rep_id, 0.25) / 0.96
                if qualifies and touch + dt.timedelta(days=2) < now:
                    cycles.append((contact["pk"], 1, LeadType.INBOUND, "inbound", rep_id, "working", assigned,
                                   touch, touch, None, "", "", False, assigned))
                    self.to_qualify.append((contact["pk"], rep_id, touch))
                elif roll < 0.04:  # still assigned, untouched: mostly arrived within the hour, a few days ago (breached)
                    assigned = now - dt.timedelta(minutes=rng.choice([5, 12, 20, 35, 50, 70, 240, 4320]))
                    cycles.append((contact["pk"], 1, LeadType.INBOUND, "inbound", rep_id, "assigned", assigned,
                                   None, None, None, "", "", False, assigned))
                elif roll < 0.45:  # working
                    cycles.append((contact["pk"], 1, LeadType.INBOUND, "inbound", rep_id, "working", assigned,
                                   touch, touch, None, "", "", False, assigned))
                else:
                    done = min(now, touch + dt.timedelta(days=rng.uniform(1, 25)))
                    # Qualified leads are the ones with a qualified meeting (above); the rest
                    # end in nurture or unqualified with a reason.
                    disposition, reason = rng.choices(
                        [("nurture", "No response (end of cadence)"),
                         ("nurture", "Budget not available for 6+ months"),
                         ("unqualified", "Not a prospect (student, job seeker)")],
                        [45, 25, 30],
                    )[0]
                    bypass = rng.random() < 0.05
                    cycles.append((contact["pk"], 1, LeadType.INBOUND, "inbound", rep_id, "dispositioned", assigned,
                                   None if bypass else touch, None if bypass else touch, done, disposition, reason,
                                   bypass, assigned))
                first_touch = cycles[-1][7]
                if first_touch is not None:
                    activities.append(("call", rep_id, account_id, contact["pk"], first_touch, False, "First call",
                                        first_touch))
        _copy("accounts_activity", ["type", "rep_id", "account_id", "contact_id", "occurred_at", "automated",
                                    "subject", "created_at"], activities)
        # Nurture and unqualified cycles point at their reason row (a database constraint).
        reason_ids = dict(DispositionReason.objects.values_list("label", "pk"))
        _copy("people_leadcycle", ["contact_id", "number", "lead_type", "source", "rep_id", "state", "assigned_at",
                                   "first_touch_at", "worked_at", "dispositioned_at", "disposition",
                                   "disposition_reason", "bypassed_working", "created_at", "campaign", "reason_id"],
              ((*cycle, CAMPAIGNS[i % len(CAMPAIGNS)], reason_ids.get(cycle[11])) for i, cycle in enumerate(cycles)))
        lead_cycles_sla_backfill()
        campaigns_from_free_text()  # the demo's campaigns as records, their cycles linked
        return len(activities), len(cycles)
