"""Routing benchmarks for `make bench` (run in the sdrops_bench database).

Each benchmark builds its own data with set-based SQL (tagged so a re-run replaces it),
then measures the real services: one distribution of 10,000 accounts from a 200,000-account
pool to 50 SDRs, and 10,000 inbound leads routed one by one.
"""

from __future__ import annotations

import os
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, reset_queries, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Account
from apps.accounts.services import account_owners_set
from apps.icps.models import ICP
from apps.leads.models import LeadCycle
from apps.people.models import Contact, Rep, Team
from apps.routing.models import RepCapacityOverride, RoutingRule, RoutingRuleMember, Strategy
from apps.routing.services import distribution_commit, distribution_preview, distribution_run, lead_route

# The issue asks for 10,000 leads; SDROPS_BENCH_LEADS shrinks the run on a busy shared machine.
LEADS = int(os.environ.get("SDROPS_BENCH_LEADS", "10000"))
TAG = "routing-bench"  # accounts: domain ends with -routing-bench.com; reps/teams/users carry it in their names


def _cleanup() -> None:

    # Lead cycles and contacts through the ORM, so rows other apps hang on them (lifecycle
    # events, SLA breaches, enrolments…) go with them.
    LeadCycle.objects.filter(Q(contact__email__endswith=f"-{TAG}.com") | Q(rep__owner_name__startswith=TAG)).delete()
    Contact.objects.filter(email__endswith=f"-{TAG}.com").delete()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_accounts ON COMMIT DROP AS SELECT id FROM accounts_account WHERE domain LIKE %s",
                       [f"%-{TAG}.com"])
        for table, column in [
            ("routing_distributionline", "account_id"), ("routing_queueitem", "account_id"),
            ("routing_routingdecision", "account_id"), ("routing_returnrequest", "account_id"),
            ("routing_accountrest", "account_id"), ("accounts_ownershipevent", "account_id"),
            ("accounts_activity", "account_id"), ("accounts_domainalias", "account_id"),
            # New accounts are scored when created, and the score history keeps their tier.
            ("icps_scorehistory", "account_id"), ("icps_signal", "account_id"),
            ("markets_accountmarket", "account_id"), ("markets_marketsegmentchange", "account_id"),
        ]:
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM bench_accounts)")  # noqa: S608
        cursor.execute("DELETE FROM accounts_account WHERE id IN (SELECT id FROM bench_accounts)")
        cursor.execute("DELETE FROM routing_routingrulemember WHERE rule_id IN (SELECT id FROM routing_routingrule WHERE name LIKE %s)",
                       [f"{TAG}%"])
        cursor.execute("DELETE FROM routing_queueitem WHERE rule_id IN (SELECT id FROM routing_routingrule WHERE name LIKE %s)",
                       [f"{TAG}%"])
        cursor.execute("UPDATE routing_routingdecision SET rule_id = NULL WHERE rule_id IN "
                       "(SELECT id FROM routing_routingrule WHERE name LIKE %s)", [f"{TAG}%"])
        cursor.execute("DELETE FROM routing_routingrule WHERE name LIKE %s", [f"{TAG}%"])
        cursor.execute("DELETE FROM routing_distributionline WHERE distribution_id IN "
                       "(SELECT id FROM routing_distribution WHERE team_id IN (SELECT id FROM people_team WHERE name LIKE %s))",
                       [f"{TAG}%"])
        cursor.execute("DELETE FROM routing_distribution WHERE team_id IN (SELECT id FROM people_team WHERE name LIKE %s)",
                       [f"{TAG}%"])
        cursor.execute("DELETE FROM accounts_ownershipevent WHERE to_rep_id IN (SELECT id FROM people_rep WHERE owner_name LIKE %s) "
                       "OR from_rep_id IN (SELECT id FROM people_rep WHERE owner_name LIKE %s)", [f"{TAG}%", f"{TAG}%"])
    Rep.objects.filter(owner_name__startswith=TAG).delete()
    get_user_model().objects.filter(username__startswith=TAG).delete()
    Team.objects.filter(name__startswith=TAG).delete()


def _reps(n: int, *, team: Team, capacity: int, prefix: str) -> list[Rep]:
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"{TAG}-{prefix}-{i}", is_staff=True) for i in range(n)])
    reps = Rep.objects.bulk_create([
        Rep(user=user, owner_name=f"{TAG} {prefix} {i}", role=Rep.Role.SDR, team=team, segment="smb", capacity=capacity)
        for i, user in enumerate(users)
    ])
    # Overrides win over role/segment capacity rules the database may hold (the demo's),
    # so the figures do not depend on what else is in it.

    RepCapacityOverride.objects.bulk_create([RepCapacityOverride(rep=rep, capacity=capacity) for rep in reps])
    return reps


def _pool(n: int, *, start: int, icp: ICP) -> None:
    """n ICP-matched, enrolled (market segment B) SMB accounts in the pool with scores spread over all tiers."""
    now = timezone.now()
    # Batches: the domain-uniqueness trigger takes one advisory lock per row and transaction.
    for first in range(start, start + n, 5000):
        _pool_batch(min(5000, start + n - first), start=first, icp=icp, now=now)


def _pool_batch(n: int, *, start: int, icp: ICP, now) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH added AS (
            INSERT INTO accounts_account (name, website, domain, matching_key, keep_subdomain, industry, country, region,
                technologies, segment, status, matched_icp_id, fit_score, opportunity_score, readiness_score, total_score,
                tier, quadrant, created_at, updated_at)
            SELECT 'Bench ' || g, '', 'a' || g || %(suffix)s, 'a' || g || %(suffix)s, false, 'Software', 'United States', 'NA',
                   '{}', 'smb', 'prospect', %(icp)s, 0, 0, 0, s, CASE WHEN s >= 70 THEN 'A' WHEN s >= 40 THEN 'B' ELSE 'C' END,
                   '', %(now)s, %(now)s
              FROM (SELECT g, ((g * 7919) %% 101) AS s FROM generate_series(%(start)s, %(end)s) AS g) AS x
            RETURNING id)
            INSERT INTO markets_accountmarket (account_id, segment, rule_segment, override_segment, override_reason)
            SELECT id, 'B', 'B', '', '' FROM added
            """,
            {"suffix": f"-{TAG}.com", "icp": icp.pk, "now": now, "start": start, "end": start + n - 1},
        )


def bench_distribution(*, stdout, options) -> str:
    _cleanup()
    icp, _ = ICP.objects.get_or_create(name=f"{TAG} ICP")
    team = Team.objects.create(name=f"{TAG} distribution")
    reps = _reps(50, team=team, capacity=200, prefix="dist")
    started = time.perf_counter()
    _pool(200_000, start=1, icp=icp)
    connection.cursor().execute("VACUUM ANALYZE accounts_account")
    build = time.perf_counter() - started
    stdout.write(f"pool of 200,000 built in {build:.1f} s")

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as preview_queries:

        preview = distribution_preview(team=team)
    preview_time = time.perf_counter() - started
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as commit_queries:
        distribution_commit(distribution=preview)
    commit_time = time.perf_counter() - started
    assigned = preview.lines.count()

    # The same again, as the schedule runs it (plan and commit in one locked transaction).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET owner_id = NULL, owner_since = NULL WHERE domain LIKE %s", [f"%-{TAG}.com"])
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as run_queries:
        run = distribution_run(team=team)
    run_time = time.perf_counter() - started
    sizes = [r["book_after"] for r in run.summary]
    averages = [r["average_score"] for r in run.summary]
    _cleanup()
    stdout.write(f"distribution: preview {preview_time:.2f} s, commit {commit_time:.2f} s, one-step run {run_time:.2f} s")
    return "\n".join([
        "## Routing: distribution",
        "",
        f"{assigned:,} accounts dealt from a pool of 200,000 ICP-matched accounts to {len(reps)} SDRs "
        "(capacity 200 each), best score first in a snake draft.",
        "",
        "| step | time | SQL queries |",
        "|---|---|---|",
        f"| preview (plan + store 10,000 lines) | {preview_time:.2f} s | {len(preview_queries)} |",
        f"| commit of the preview (locks, checks, one set-based owner change) | {commit_time:.2f} s | {len(commit_queries)} |",
        f"| scheduled run (plan + commit in one locked transaction) | {run_time:.2f} s | {len(run_queries)} |",
        "",
        f"Books after: {min(sizes)}–{max(sizes)} accounts; average score per rep {min(averages)}–{max(averages)}. "
        f"Load average at the end of the run: {os.getloadavg()[0]:.1f}.",
    ])


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def bench_lead_routing(*, stdout, options) -> str:

    _cleanup()
    icp, _ = ICP.objects.get_or_create(name=f"{TAG} ICP")
    team = Team.objects.create(name=f"{TAG} routing")
    reps = _reps(20, team=team, capacity=100_000, prefix="route")

    rule = RoutingRule.objects.create(name=f"{TAG} fallback", position=0, strategy=Strategy.WEIGHTED_ROUND_ROBIN)
    RoutingRuleMember.objects.bulk_create([
        RoutingRuleMember(rule=rule, rep=rep, order=i) for i, rep in enumerate(reps)
    ])
    for i, rep in enumerate(reps):  # weights 1/2/3: the rep's own routing weight (one weight)
        Rep.objects.filter(pk=rep.pk).update(routing_weight=1 + i % 3)
    _pool(20_000, start=1, icp=icp)  # a 20,000-account database for leads to match against

    owned = list(Account.objects.filter(domain__endswith=f"-{TAG}.com").order_by("pk").values_list("pk", flat=True)[:5000])
    account_owners_set(changes=[(pk, reps[i % len(reps)].pk) for i, pk in enumerate(owned)], reason="import")
    # As autovacuum leaves a live table: statistics and the visibility map (index-only counts).
    connection.cursor().execute("VACUUM ANALYZE accounts_account")
    # 10,000 leads: 30% at owned accounts, 50% at pool accounts, 20% at companies not in the database.
    emails = []
    for i in range(LEADS):
        if i % 10 < 3:
            emails.append(f"lead{i}@a{1 + (i * 13) % 5000}-{TAG}.com")
        elif i % 10 < 8:
            emails.append(f"lead{i}@a{5001 + (i * 17) % 15000}-{TAG}.com")
        else:
            emails.append(f"lead{i}@new{i}-{TAG}.com")
    contacts = Contact.objects.bulk_create(
        [Contact(email=e, source=Contact.Source.INBOUND) for e in emails], batch_size=5000
    )
    timings, outcomes = [], {}
    # Statements per lead, by case: data statements and transaction control (BEGIN, COMMIT,
    # savepoints) apart, as issue 16 counts them.
    counts: dict[str, list[tuple[int, int]]] = {case: [] for case in CASES}
    heaviest: dict[str, list[str]] = {}
    over: dict[str, list[bool]] = {case: [] for case in CASES}
    started = time.perf_counter()
    for contact in contacts:
        reset_queries()  # the query log is a bounded deque; an overflowing one captures nothing
        t = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            decision = lead_route(contact=contact)
        timings.append(time.perf_counter() - t)
        control = sum(q["sql"].startswith(TRANSACTION_CONTROL) for q in queries.captured_queries)
        case = ("new company" if decision.account_created
                else "owned account" if decision.outcome == "current_owner" else "pool account by a rule")
        pair = (len(queries) - control, control)
        if not counts[case] or pair > max(counts[case]):
            heaviest[case] = [" ".join(q["sql"].split())[:160] for q in queries.captured_queries]
        counts[case].append(pair)
        if pair[0] > ROUTING_TARGET:
            # A lead over the budget because it filled the per-process configuration caches
            # (ICPs, rules, scoring settings: read once per process and configuration version).
            filling = any(CONFIGURATION_READ in q["sql"] for q in queries.captured_queries)
            over[case].append(filling)
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    total = time.perf_counter() - started
    timings.sort()
    median = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    stdout.write(f"routed {len(contacts)} leads in {total:.1f} s (median {median:.1f} ms, p99 {p99:.1f} ms)")
    for case, statements in heaviest.items():
        stdout.write(f"the {case} lead with the most statements:\n  " + "\n  ".join(statements))
    rows = []
    for case in CASES:
        pairs = counts[case] or [(0, 0)]
        data = [d for d, _ in pairs]
        most = max(data)
        filled = sum(over[case])
        warm = [d for d in data if d <= ROUTING_TARGET]
        if most <= ROUTING_TARGET:
            verdict = "holds"
        elif filled == len(over[case]):
            verdict = (f"holds but for {filled} lead{'s' if filled > 1 else ''} that filled the configuration "
                       f"caches (most of the others: {max(warm)})")
        else:
            verdict = f"misses: {len(over[case]) - filled} leads over {ROUTING_TARGET} with warm caches"
        rows.append(f"| {case} | {len(counts[case]):,} | {statistics.median(data):.0f} | {most} | "
                    f"{max(c for _, c in pairs)} | ≤ {ROUTING_TARGET} | {verdict} |")
        stdout.write(rows[-1])
    load = os.getloadavg()[0]
    _cleanup()
    mix = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in sorted(outcomes.items()))
    return "\n".join([
        "## Routing: inbound leads one by one",
        "",
        f"{LEADS:,} inbound leads routed one call at a time (`lead_route`: match, decide, move the account, open the lead cycle, "
        "record the decision) against 20,000 accounts and 20 SDRs in a weighted round robin. "
        "Mix: 30% at owned accounts, 50% at pool accounts, 20% at companies not yet in the database (new account created).",
        "",
        "| leads | total | median per lead | p99 per lead |",
        "|---|---|---|---|",
        f"| {len(contacts):,} | {total:.1f} s | {median:.1f} ms | {p99:.1f} ms |",
        "",
        f"Outcomes: {mix}.",
        "",
        "Statements per lead (issue 16 target 2: at most 8 data statements on the routing path in each case; "
        "transaction control counted apart — each call runs in its own transaction here, so BEGIN and COMMIT):",
        "",
        "| case | leads | data statements (median) | data statements (most) | transaction control (most) | target | |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "The same budgets are asserted in apps/integrations/tests/test_lead_statement_budget.py, with the whole "
        "`POST /api/leads/` of a scoped SDR token at most 12 data statements (authentication with the configuration "
        "version, the rate limit, the contact, the routing path).",
        "",
        f"Load average at the end of the run: {load:.1f} (the 2 cores are shared with other work; "
        "per-statement latency rises with it).",
    ])


CASES = ("owned account", "pool account by a rule", "new company")
# The configuration the routing path reads from the per-process cache (sdrops.config_cache)
# once per process and configuration version: a statement reading it is a cache fill.
CONFIGURATION_READ = 'FROM "icps_icp"'
ROUTING_TARGET = 8


BENCHMARKS = [bench_distribution, bench_lead_routing]
