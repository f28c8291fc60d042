"""The report benchmark's organisation, seeded in bulk: `bench_organisation_seed(accounts=N)`.

The demo seed (`seed_demo`) books every qualified meeting through the real services, which
takes hours at 200,000 accounts. Here the demo seeds a small organisation first (its people,
roles and users — ops, manager.east, the SDRs and AEs — ICPs, cadences, campaigns, routing rules,
market segments and a few hundred accounts made through the real services), and the rest of
the N accounts are added set-based, in the demo's proportions and shapes: domains, segments,
half of them owned by an SDR of their segment (ownership events through `account_owners_set`),
~3 contacts each, inbound lead cycles over `days` with the demo's states and per-SDR qualify
rates, activities (3–12 per owned account plus each first touch), qualified meetings and their
opportunities, other meetings, SLA deadlines and breaches, routing decisions, signals (then
scored and classified by the real set-based services), and, over the whole organisation,
cadence enrolments and returns (apps.reporting.bench_rows). Every random choice is a hash of a
row number and the seed, so a seed gives the same organisation every time. The rollup triggers
fire on every statement; `reporting_rollups_rebuild()` runs at the end all the same (cheap,
and it makes the result what `rebuild_report_rollups --check` compares against).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.campaigns.services import campaigns_from_free_text
from apps.icps.services import accounts_rescore
from apps.leads.models import DispositionReason, SlaPolicy
from apps.leads.services import lead_cycles_sla_backfill
from apps.markets.services import market_segments_classify
from apps.people.models import Rep
from apps.reporting import bench_rows
from apps.reporting.rollups import rollups_check, rollups_rebuild
from apps.routing.models import RoutingRule
from sdrops.management.commands import seed_demo as demo

BASE_ACCOUNTS = 200  # made by seed_demo through the real services

# r(k, salt): a uniform number in [0, 1) from a row number and a salt (the seed is in the salt).
RANDOM_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.bench_r(k bigint, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(k, salt) & 2147483647)::float8 / 2147483648.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.bench_pick(a anyarray, u float8) RETURNS anyelement LANGUAGE sql IMMUTABLE
AS $$ SELECT a[1 + floor(u * cardinality(a))::int] $$;
CREATE OR REPLACE FUNCTION pg_temp.bench_normal(k bigint, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE
AS $$ SELECT sqrt(-2 * ln(1 - pg_temp.bench_r(k, salt))) * cos(2 * pi() * pg_temp.bench_r(k, salt + 1)) $$;
"""

ACCOUNTS_SQL = """
INSERT INTO accounts_account (name, website, domain, matching_key, keep_subdomain, industry, employees, annual_revenue,
    country, region, technologies, segment, status, fit_score, opportunity_score, readiness_score, total_score, tier,
    quadrant, created_at, updated_at)
SELECT name, 'https://www.' || domain || '/', domain, domain, false, industry, employees,
       round((employees * (80000 + 240000 * pg_temp.bench_r(g, %(s)s + 5)))::numeric, -3), country, region, techs,
       CASE WHEN industry = 'Government' THEN 'pubsec' WHEN employees < 200 THEN 'smb'
            WHEN employees < 2000 THEN 'mid_market' ELSE 'enterprise' END,
       pg_temp.bench_pick(%(statuses)s::text[], pg_temp.bench_r(g, %(s)s + 6)), 0, 0, 0, 0, '', '', created, created
FROM (
    SELECT g, name, lower(regexp_replace(name, '[^A-Za-z0-9]+', '', 'g')) || g || '.' || tld AS domain, industry,
           least(250000, greatest(5, exp(5.3 + 1.6 * pg_temp.bench_normal(g, %(s)s + 2))))::int AS employees,
           country, region, techs, created
    FROM (
        SELECT g, pg_temp.bench_pick(%(words)s::text[], pg_temp.bench_r(g, %(s)s)) || ' '
                  || pg_temp.bench_pick(%(suffixes)s::text[], pg_temp.bench_r(g, %(s)s + 1)) AS name,
               pg_temp.bench_pick(%(industries)s::text[], pg_temp.bench_r(g, %(s)s + 4)) AS industry, x.country,
               x.region, x.tld,
               ARRAY(SELECT t FROM unnest(%(techs)s::text[]) WITH ORDINALITY AS u(t, i)
                     WHERE pg_temp.bench_r(g * 32 + i, %(s)s + 7) < 0.14 ORDER BY t) AS techs,
               %(now)s - (91 + 629 * pg_temp.bench_r(g, %(s)s + 8)) * interval '1 day' AS created
        FROM generate_series(1, %(n)s) g
        CROSS JOIN LATERAL (SELECT 1 + floor(pg_temp.bench_r(g, %(s)s + 3) * %(n_countries)s)::int AS ci) pick
        CROSS JOIN LATERAL (SELECT (%(countries)s::text[][])[pick.ci][1] AS country,
                                   (%(countries)s::text[][])[pick.ci][2] AS region,
                                   (%(countries)s::text[][])[pick.ci][3] AS tld) x
    ) a
) b
ORDER BY g
"""

# ~3 contacts an account (1–5, as the demo); emails unique by the row number.
CONTACTS_SQL = """
INSERT INTO people_contact (first_name, last_name, email, title, persona, buying_role, source, account_id, phone,
    linkedin_url, created_at, updated_at)
SELECT first, last, lower(first || '.' || last || '.' || k || '@' || a.domain), (%(titles)s::text[][])[x.ti][2],
       (%(titles)s::text[][])[x.ti][1],
       pg_temp.bench_pick(%(roles)s::text[], pg_temp.bench_r(a.id * 8 + k, %(s)s + 13)),
       pg_temp.bench_pick(%(sources)s::text[], pg_temp.bench_r(a.id * 8 + k, %(s)s + 14)), a.id,
       CASE WHEN pg_temp.bench_r(a.id * 8 + k, %(s)s + 15) < 0.8 THEN
            CASE WHEN a.country IN ('United States', 'Canada') THEN '+121255501' ELSE '+4420794600' END
            || lpad((floor(pg_temp.bench_r(a.id * 8 + k, %(s)s + 16) * 100))::int::text, 2, '0') ELSE '' END,
       CASE WHEN pg_temp.bench_r(a.id * 8 + k, %(s)s + 17) < 0.7
            THEN 'https://www.linkedin.com/in/' || lower(first || '-' || last) || '-' || (a.id * 8 + k) ELSE '' END,
       a.created_at, a.created_at
FROM accounts_account a
CROSS JOIN LATERAL generate_series(1, (ARRAY[1, 2, 2, 3, 3, 3, 4, 4, 5])[1 + floor(9 * pg_temp.bench_r(a.id, %(s)s + 10))::int]) k
CROSS JOIN LATERAL (SELECT pg_temp.bench_pick(%(firsts)s::text[], pg_temp.bench_r(a.id * 8 + k, %(s)s + 11)) AS first,
                           pg_temp.bench_pick(%(lasts)s::text[], pg_temp.bench_r(a.id * 8 + k, %(s)s + 12)) AS last,
                           1 + floor(pg_temp.bench_r(a.id * 8 + k, %(s)s + 18) * %(n_titles)s)::int AS ti) x
WHERE a.id > %(after)s
ORDER BY a.id, k
"""

# One inbound lead cycle per inbound contact of the new accounts, as the demo makes them:
# 4% still untouched (mostly within the hour), 41% working, the rest dispositioned (nurture or
# unqualified with a reason, 5% bypassing working); qualified at each SDR's own rate when the
# qualifying meeting fits before now (else working, as the demo leaves them).
CYCLES_STAGE_SQL = """
CREATE TEMP TABLE bench_cycle ON COMMIT DROP AS
SELECT ct.id AS contact_id, ct.account_id, rep_id, assigned_at, touch, roll, booked_at, start_at,
       pg_temp.bench_r(ct.id, %(s)s + 25) < coalesce(rate.r, 0.25) / 0.96 AND roll >= 0.04
           AND touch + interval '2 days' < %(now)s AND start_at + interval '7 hours' < %(now)s AND booked_at < %(now)s
           AND start_at > booked_at AND EXISTS (SELECT 1 FROM people_rep_ae_partners p WHERE p.from_rep_id = rep_id)
           AS qualifies,
       row_number() OVER (ORDER BY ct.id) AS i
FROM (SELECT ct.*, coalesce(a.owner_id, pg_temp.bench_pick(%(sdrs)s::bigint[], pg_temp.bench_r(ct.id, %(s)s + 20))) AS rep_id,
             %(now)s - %(days)s * pg_temp.bench_r(ct.id, %(s)s + 21) * interval '1 day' AS assigned_at
      FROM people_contact ct JOIN accounts_account a ON a.id = ct.account_id
      WHERE ct.account_id > %(after)s AND ct.source = 'inbound') ct
CROSS JOIN LATERAL (SELECT ct.assigned_at + exp(0.8 + 1.3 * pg_temp.bench_normal(ct.id, %(s)s + 22)) * interval '1 hour' AS touch) t
-- A cycle whose disposition would fall after now is still being worked (nothing piles up at now).
CROSS JOIN LATERAL (SELECT CASE WHEN t.touch > %(now)s THEN 0
                                WHEN pg_temp.bench_r(ct.id, %(s)s + 24) >= 0.45
                                     AND t.touch + (1 + 24 * pg_temp.bench_r(ct.id, %(s)s + 28)) * interval '1 day' > %(now)s THEN 0.3
                                ELSE pg_temp.bench_r(ct.id, %(s)s + 24) END AS roll,
                           t.touch + (1 + 29 * pg_temp.bench_r(ct.id, %(s)s + 26)) * interval '1 hour' AS booked_at) b
CROSS JOIN LATERAL (SELECT date_trunc('hour', b.booked_at + (ARRAY[1, 2, 3, 5])[1 + floor(4 * pg_temp.bench_r(ct.id, %(s)s + 27))::int]
                                      * interval '1 day') AS start_at) m
LEFT JOIN unnest(%(sdrs_all)s::bigint[], %(rates)s::float8[]) AS rate(rep, r) ON rate.rep = ct.rep_id
"""
CYCLES_SQL = """
INSERT INTO people_leadcycle (contact_id, number, lead_type, source, rep_id, state, assigned_at, first_touch_at, worked_at,
    dispositioned_at, disposition, disposition_reason, reason_id, bypassed_working, created_at, campaign)
SELECT contact_id, 1, 'inbound', 'inbound', rep_id, d.state, d.assigned, d.touch, d.touch, d.done, d.disposition,
       coalesce(r.label, ''), r.id, d.bypass, d.assigned, (%(campaigns)s::text[])[1 + (i %% cardinality(%(campaigns)s::text[]))]
FROM bench_cycle c
CROSS JOIN LATERAL (SELECT pg_temp.bench_r(c.contact_id, %(s)s + 28) AS u, pg_temp.bench_r(c.contact_id, %(s)s + 29) < 0.05 AS bp,
                           pg_temp.bench_r(c.contact_id, %(s)s + 23) AS v) x
CROSS JOIN LATERAL (SELECT
    CASE WHEN c.roll < 0.04 AND NOT c.qualifies THEN 'assigned' WHEN c.roll < 0.45 AND NOT c.qualifies THEN 'working'
         ELSE 'dispositioned' END AS state,
    CASE WHEN c.roll < 0.04 AND NOT c.qualifies
         THEN %(now)s - (ARRAY[5, 12, 20, 35, 50, 70, 240, 4320])[1 + floor(8 * x.u)::int] * interval '1 minute'
         ELSE c.assigned_at END AS assigned,
    CASE WHEN c.roll < 0.04 AND NOT c.qualifies THEN NULL WHEN c.qualifies OR c.roll < 0.45 OR NOT x.bp THEN c.touch END AS touch,
    CASE WHEN c.qualifies THEN c.start_at + interval '30 minutes' + (ARRAY[0.5, 1, 3, 6])[1 + floor(4 * x.u)::int] * interval '1 hour'
         WHEN c.roll >= 0.45 THEN c.touch + (1 + 24 * x.u) * interval '1 day' END AS done,
    CASE WHEN c.qualifies THEN 'qualified' WHEN c.roll < 0.45 THEN ''
         WHEN x.v < 0.70 THEN 'nurture' ELSE 'unqualified' END AS disposition,
    CASE WHEN c.qualifies THEN NULL WHEN c.roll < 0.45 THEN NULL WHEN x.v < 0.45 THEN %(no_response)s
         WHEN x.v < 0.70 THEN %(budget)s ELSE %(not_prospect)s END AS reason_id,
    NOT c.qualifies AND c.roll >= 0.45 AND x.bp AS bypass) d
LEFT JOIN people_dispositionreason r ON r.id = d.reason_id
ORDER BY contact_id
"""

# The demo's ACTIVITY_MIX, 3–12 per owned new account over `days`, and each cycle's first touch.
ACTIVITIES_SQL = """
INSERT INTO accounts_activity (type, rep_id, account_id, contact_id, occurred_at, automated, subject, created_at)
SELECT kind, a.owner_id, a.id,
       CASE WHEN kind IN ('account_viewed', 'intelligence_run') OR p.ids IS NULL THEN NULL
            ELSE pg_temp.bench_pick(p.ids, pg_temp.bench_r(a.id * 16 + k, %(s)s + 32)) END,
       w.at, kind = 'email' AND pg_temp.bench_r(a.id * 16 + k, %(s)s + 33) < 0.3,
       coalesce(pg_temp.bench_pick(ARRAY(SELECT jsonb_array_elements_text(%(subjects)s::jsonb -> kind)),
                                   pg_temp.bench_r(a.id * 16 + k, %(s)s + 34)), 'Activity'), w.at
FROM accounts_account a
LEFT JOIN LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM people_contact c WHERE c.account_id = a.id) p ON true
CROSS JOIN LATERAL generate_series(1, 3 + floor(10 * pg_temp.bench_r(a.id, %(s)s + 30))::int) k
CROSS JOIN LATERAL (SELECT pg_temp.bench_pick(%(mix)s::text[], pg_temp.bench_r(a.id * 16 + k, %(s)s + 31)) AS kind,
                           %(now)s - %(days)s * pg_temp.bench_r(a.id * 16 + k, %(s)s + 35) * interval '1 day' AS at) w
WHERE a.id > %(after)s AND a.owner_id IS NOT NULL
UNION ALL
SELECT 'call', c.rep_id, ct.account_id, c.contact_id, c.first_touch_at, false, 'First call', c.first_touch_at
FROM people_leadcycle c JOIN people_contact ct ON ct.id = c.contact_id
WHERE c.id > %(after_cycle)s AND c.first_touch_at IS NOT NULL
"""

# The demo's SLA policy clock is the calendar: deadlines and response times are plain sums.
SLA_SQL = """
UPDATE people_leadcycle c SET sla_policy_id = p.id, sla_target_at = c.assigned_at + p.target_minutes * interval '1 minute',
       sla_maximum_at = c.assigned_at + p.maximum_minutes * interval '1 minute', response_time = c.first_touch_at - c.assigned_at
FROM people_slapolicy p
WHERE c.id > %(after_cycle)s AND p.active AND p.lead_type = c.lead_type AND p.source = '' AND p.clock = 'calendar'
  AND NOT EXISTS (SELECT 1 FROM people_slapolicy q WHERE q.active AND q.lead_type = c.lead_type AND q.source = c.source)
"""
BREACHES_SQL = """
INSERT INTO people_slabreach (cycle_id, kind, rep_id, assigned_at, due_at, breached_at, note)
SELECT c.id, k.kind, c.rep_id, c.assigned_at, k.due, k.due + interval '5 minutes', ''
FROM people_leadcycle c
CROSS JOIN LATERAL (VALUES ('target', c.sla_target_at), ('maximum', c.sla_maximum_at)) AS k(kind, due)
WHERE c.id > %(after_cycle)s AND k.due + interval '5 minutes' < coalesce(c.first_touch_at, %(now)s)
  AND (c.state <> 'dispositioned' OR c.first_touch_at IS NOT NULL)
"""
# Inbound leads of unowned accounts were dealt by a routing rule (the demo's two rules by segment).
DECISIONS_SQL = """
INSERT INTO routing_routingdecision (outcome, strategy, reason, skipped, explanation, account_created, decided_at,
    account_id, contact_id, rep_id, rule_id)
SELECT 'rule', r.strategy, 'signal', CASE WHEN pg_temp.bench_r(c.id, %(s)s + 40) < 0.2 AND c.rep_id <> %(skip_rep)s
           THEN jsonb_build_array(jsonb_build_object('rep_id', %(skip_rep)s, 'rep', %(skip_name)s, 'reason', 'at_capacity'))
           ELSE '[]'::jsonb END,
       'Rule “' || r.name || '” picked the rep.', false, c.assigned_at, ct.account_id, c.contact_id, c.rep_id, r.id
FROM people_leadcycle c JOIN people_contact ct ON ct.id = c.contact_id JOIN accounts_account a ON a.id = ct.account_id
JOIN routing_routingrule r ON r.id = CASE WHEN a.segment IN ('mid_market', 'enterprise') THEN %(rule_big)s ELSE %(rule_small)s END
WHERE c.id > %(after_cycle)s AND a.owner_id IS NULL
ORDER BY c.id
"""
SIGNALS_SQL = """
INSERT INTO icps_signal (account_id, type_id, occurred_at, value, date, source, note, created_at)
SELECT a.id, t.id, s.at, CASE WHEN t.kind = 'numeric' THEN 20 + floor(76 * pg_temp.bench_r(a.id * 8 + s.k, %(s)s + 53)) END,
       CASE WHEN t.kind = 'dated' THEN (%(now)s + (floor(171 * pg_temp.bench_r(a.id * 8 + s.k, %(s)s + 54)) - 20) * interval '1 day')::date END,
       'demo', '', s.at
FROM accounts_account a
CROSS JOIN LATERAL (SELECT pg_temp.bench_r(a.id, %(s)s + 50) AS u) h
CROSS JOIN LATERAL (
    SELECT k, key, %(now)s - days * pg_temp.bench_r(a.id * 8 + k, %(s)s + 51) * interval '1 day' AS at
    FROM (VALUES (1, 'demo_request', 20), (2, 'pricing_page_visit', 5), (3, 'pricing_page_visit', 5),
                 (4, 'pricing_page_visit', 5), (5, 'hiring_surge', 60), (6, 'funding_round', 150), (7, 'new_executive', 90)) v(k, key, days)
    WHERE h.u < 0.12 AND (k < 6 OR pg_temp.bench_r(a.id * 8 + k, %(s)s + 52) >= 0.4)
    UNION ALL
    SELECT k, pg_temp.bench_pick(%(keys)s::text[], pg_temp.bench_r(a.id * 8 + k, %(s)s + 55)),
           %(now)s - 60 * pg_temp.bench_r(a.id * 8 + k, %(s)s + 51) * interval '1 day'
    FROM generate_series(1, 1 + floor(5 * pg_temp.bench_r(a.id, %(s)s + 56))::int) k
    WHERE h.u >= 0.12 AND h.u < 0.12 + 0.88 * 0.45
) s
JOIN icps_signaltype t ON t.key = s.key
WHERE a.id > %(after)s
ON CONFLICT DO NOTHING
"""

WORDS = ["Northwind", "Blue", "Summit", "Granite", "Vertex", "Harbor", "Pioneer", "Silver", "Cedar", "Atlas",
         "Beacon", "Crescent", "Evergreen", "Falcon", "Horizon", "Ironwood", "Juniper", "Keystone", "Lumen", "Meridian"]
SUFFIXES = ["Analytics", "Systems", "Labs", "Logistics", "Health", "Capital", "Retail", "Energy", "Media", "Works",
            "Group", "Partners", "Software", "Foods", "Robotics", "Networks"]


def _params(*, seed: int, now: dt.datetime) -> dict:
    fake = Faker()
    fake.seed_instance(seed)
    countries = [[c, region, demo.TLDS.get(c, "com")] for c, region, w in demo.COUNTRIES for _ in range(w)]
    titles = [[persona, title] for persona, options in demo.TITLES.items() for title in options]
    return {"s": seed * 1000, "now": now, "words": WORDS, "suffixes": SUFFIXES, "industries": demo.INDUSTRIES,
            "countries": countries, "n_countries": len(countries), "techs": demo.TECHNOLOGIES,
            "statuses": ["prospect"] * 78 + ["active"] * 12 + ["customer"] * 6 + ["disqualified"] * 4,
            "firsts": [demo._slug(fake.first_name()) or "alex" for _ in range(400)],
            "lasts": [demo._slug(fake.last_name()) or "lee" for _ in range(600)],
            "titles": titles, "n_titles": len(titles), "roles": demo.BUYING_ROLES, "sources": demo.SOURCES,
            "mix": [str(kind) for kind in demo.ACTIVITY_MIX], "campaigns": demo.CAMPAIGNS,
            "subjects": json.dumps(demo.SUBJECTS)}


def _owners(*, after: int, seed: int, now: dt.datetime, days: int) -> int:
    """Half of the new accounts (never a disqualified one) owned by a full-ramp SDR of their
    segment, recorded as the demo's import (ownership events, owner_since, sdr_owner)."""
    rng = random.Random(seed)
    sdrs = list(Rep.objects.filter(role=Rep.Role.SDR, ramp_start__isnull=True).order_by("pk"))
    by_segment: dict[str, list[int]] = {}
    for sdr in sdrs:
        by_segment.setdefault(sdr.segment, []).append(sdr.pk)
    everyone = [s.pk for s in sdrs]
    changes = []
    for pk, segment, status in Account.objects.filter(pk__gt=after).order_by("pk").values_list("pk", "segment", "status"):
        if status != "disqualified" and rng.random() < 0.5:
            changes.append((pk, rng.choice(by_segment.get(segment) or everyone)))
    account_owners_set(changes=changes, reason=OwnershipReason.IMPORT, note="Bench import",
                       occurred_at=now - dt.timedelta(days=days + 5))
    managers = list(Rep.objects.filter(role=Rep.Role.MANAGER).order_by("pk").values_list("pk", flat=True))
    aes = list(Rep.objects.filter(role=Rep.Role.AE).order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET cs_owner_id = %s, opportunity_owner_id = (%s::bigint[])[1 + (id %% %s)] "
                       "WHERE id > %s AND status = 'customer'", [managers[0], aes, len(aes), after])
    return len(changes)


def _execute(cursor, sql: str, params: dict) -> int:
    cursor.execute(sql, params)
    return cursor.rowcount


def bench_organisation_seed(*, accounts: int, seed: int = 42, days: int = 365, stdout=None) -> dict:
    """Replace the database's organisation with the bench organisation of `accounts` accounts.
    Returns the rows made per table and the seconds each step took."""
    started = time.perf_counter()
    steps: dict[str, float] = {}
    rows: dict[str, int] = {}

    def step(name: str, since: float) -> float:
        steps[name] = round(time.perf_counter() - since, 1)
        if stdout is not None:
            stdout.write(f"  {name}: {steps[name]} s")
        return time.perf_counter()

    base = min(BASE_ACCOUNTS, max(1, accounts // 2))
    call_command("seed_demo", accounts=base, seed=seed, days=days, reset=True, stdout=_Quiet())
    mark = step(f"seed_demo --accounts {base}", started)
    now = timezone.now().replace(microsecond=0)
    params = _params(seed=seed, now=now)
    reasons = dict(DispositionReason.objects.values_list("label", "pk"))
    sdrs = list(Rep.objects.filter(role=Rep.Role.SDR).order_by("pk"))
    rates = [0.34, 0.28, 0.25, 0.22, 0.12, 0.31, 0.26, 0.18, 0.24, 0.29]
    params.update(
        days=days, sdrs=[s.pk for s in sdrs if not s.is_out_of_office()], sdrs_all=[s.pk for s in sdrs],
        rates=[rates[i % len(rates)] for i in range(len(sdrs))],
        no_response=reasons["No response (end of cadence)"], budget=reasons["Budget not available for 6+ months"],
        not_prospect=reasons["Not a prospect (student, job seeker)"],
        keys=["demo_request", "pricing_page_visit", "pricing_page_visit", "webinar", "funding_round", "new_executive",
              "hiring_surge", "product_tour", "marketing_score", "competitor_renewal_date", "get_back_to_me_date"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RANDOM_SQL)
        cursor.execute("SELECT coalesce(max(id), 0) FROM accounts_account")
        params["after"] = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM people_leadcycle")
        params["after_cycle"] = cursor.fetchone()[0]
        rows["accounts"] = _execute(cursor, ACCOUNTS_SQL, {**params, "n": accounts - base})
        mark = step("accounts", mark)
        rows["owned"] = _owners(after=params["after"], seed=seed, now=now, days=days)
        mark = step("owners", mark)
        rows["contacts"] = _execute(cursor, CONTACTS_SQL, params)
        mark = step("contacts", mark)
        cursor.execute("ANALYZE accounts_account, people_contact")
        cursor.execute(CYCLES_STAGE_SQL, params)
        rows["lead cycles"] = _execute(cursor, CYCLES_SQL, params)
        mark = step("lead cycles", mark)
        rows["activities"] = _execute(cursor, ACTIVITIES_SQL, params)
        mark = step("activities", mark)
        rows["SLA clocks"] = _execute(cursor, SLA_SQL, params)
        rows["SLA breaches"] = _execute(cursor, BREACHES_SQL, params)
        rule_big, rule_small = _rules()
        skip = sdrs[-1]
        rows["routing decisions"] = _execute(cursor, DECISIONS_SQL, {
            **params, "rule_big": rule_big, "rule_small": rule_small, "skip_rep": skip.pk, "skip_name": skip.owner_name})
        mark = step("SLA, breaches, routing decisions", mark)
        rows["exceptions"] = bench_rows.exceptions(cursor, {**params, "ops_user": Rep.objects.get(user__username="ops").user_id})
        rows.update(bench_rows.meetings_and_opportunities(cursor, params))
        mark = step("meetings and opportunities", mark)
        rows["signals"] = _execute(cursor, SIGNALS_SQL, params)
        mark = step("signals", mark)
        capacity = max(20, math.ceil(accounts * 0.5 / 10 * 1.2))  # the demo's book size for this many accounts
        cursor.execute("UPDATE people_rep SET capacity = %s WHERE role = 'sdr'", [capacity])
        rows.update(bench_rows.enrolments_and_returns(cursor, params))
        campaigns_from_free_text()
        mark = step("campaign links, cadence enrolments, returns", mark)
    if SlaPolicy.objects.filter(active=True).exclude(clock="calendar").exists():
        lead_cycles_sla_backfill()  # a policy on business hours: the services' clock, row by row
    cursor = connection.cursor()
    cursor.execute("ANALYZE")
    accounts_rescore(now=now)
    market_segments_classify(now=now)
    mark = step("scoring and market segments", mark)
    # What the triggers kept through the bulk statements, against a rebuild from history;
    # rebuilt only if they differ (then the result says so).
    differences = rollups_check()
    if differences:
        rollups_rebuild()
    with connection.cursor() as cursor:
        # The visibility map for the percentiles' index-only scans (VACUUM cannot run in a
        # transaction: a caller's, such as a test's, gets the statistics only).
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    step("rollups checked, VACUUM ANALYZE", mark)
    steps["total"] = round(time.perf_counter() - started, 1)
    return {"rows": rows, "steps": steps, "trigger_differences": [d.table for d in differences]}


def _rules() -> tuple[int, int]:
    rules = list(RoutingRule.objects.order_by("pk").values_list("pk", flat=True))
    return rules[0], rules[-1]


class _Quiet:
    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass
