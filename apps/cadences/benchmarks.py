"""Benchmarks for the lead lifecycle's scheduled work: the 5-minute SLA check and the
auto-abandon scan over a large table of cycles. Everything runs in one transaction that is
rolled back, so the bench database is left as it was (and no email is sent)."""

from __future__ import annotations

import datetime as dt
import statistics
import time

from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Account, Activity
from apps.leads.business_hours import policy_deadline
from apps.leads.defaults import lifecycle_defaults_ensure
from apps.leads.models import LeadCycle, SlaPolicy
from apps.leads.services import lead_cycle_sla_enforce, lead_cycles_past_sla, lead_cycles_to_auto_abandon
from apps.leads.services.sla import TeamLoads, sla_reminders_send
from apps.people.models import Contact, Rep, Team
from apps.people.tests.factories import RepFactory
from apps.routing.models import RoutingRule, RoutingRuleMember, Strategy

N_CYCLES = 50_000
N_PAST_TARGET = 800
N_PAST_MAXIMUM = 200


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def sla_check_and_auto_abandon(*, stdout, options) -> str:

    rows = []
    with transaction.atomic():
        lifecycle_defaults_ensure()
        now = timezone.now()
        team = Team.objects.create(name=f"Bench team {now.timestamp()}")
        reps = [RepFactory(role=Rep.Role.SDR, team=team, owner_name=f"Bench SDR {now.timestamp()} {i}") for i in range(10)]
        policy = SlaPolicy.objects.get(lead_type="inbound", source="", active=True)
        stdout.write(f"creating {N_CYCLES} contacts and cycles")
        stamp = int(now.timestamp())
        # The leads past their maximum belong to accounts in their rep's book, as routing
        # leaves them (the re-assignment moves the account too); the rest need none.
        accounts = Account.objects.bulk_create([
            Account(name=f"Bench {i}", domain=f"sla{i}-{stamp}.example", matching_key=f"sla{i}-{stamp}.example",
                    owner=reps[i % len(reps)], owner_since=now - dt.timedelta(days=60))
            for i in range(N_PAST_MAXIMUM)
        ])
        contacts = Contact.objects.bulk_create(
            [Contact(email=f"bench{i}.{stamp}@bench.example", account=accounts[i] if i < N_PAST_MAXIMUM else None)
             for i in range(N_CYCLES)], batch_size=5000
        )
        cycles = []
        for i, contact in enumerate(contacts):
            rep = reps[i % len(reps)]
            if i < N_PAST_MAXIMUM:
                assigned = now - dt.timedelta(hours=30)
            elif i < N_PAST_MAXIMUM + N_PAST_TARGET:
                assigned = now - dt.timedelta(hours=3)
            elif i % 2:
                assigned = now - dt.timedelta(days=40)  # working, half of them long idle
            else:
                assigned = now - dt.timedelta(minutes=30)
            working = i >= N_PAST_MAXIMUM + N_PAST_TARGET and i % 2
            cycles.append(LeadCycle(
                contact=contact, number=1, rep=rep, assigned_at=assigned, sla_policy=policy,
                sla_target_at=assigned + dt.timedelta(hours=2), sla_maximum_at=assigned + dt.timedelta(hours=24),
                state="working" if working else "assigned",
                first_touch_at=assigned + dt.timedelta(hours=1) if working else None,
                worked_at=assigned + dt.timedelta(hours=1) if working else None,
            ))
        LeadCycle.objects.bulk_create(cycles, batch_size=5000)
        Activity.objects.bulk_create(
            [Activity(type="call", rep=c.rep, contact=c.contact, occurred_at=now - dt.timedelta(days=1))
             for c in cycles[N_PAST_MAXIMUM + N_PAST_TARGET::4] if c.state == "working"],
            batch_size=5000,
        )
        with connection.cursor() as cursor:  # as autovacuum would have, for realistic plans
            cursor.execute("ANALYZE people_leadcycle, people_contact, accounts_activity, people_slabreach")
        stdout.write("measuring")
        due, scan_s = _timed(lambda: lead_cycles_past_sla(now=now))
        rows.append(("SLA scan: find due cycles", f"{len(due)} of {N_CYCLES:,}", f"{scan_s * 1000:.0f} ms"))
        # The 5-minute check as lead_cycles_sla_enforce runs it, step by step so each step's
        # statements are counted: every reminder in one statement, then each cycle past its
        # maximum in its own transaction with the team loads read once for the batch.
        past_maximum = set(LeadCycle.objects.filter(pk__in=due, sla_maximum_at__lte=now).values_list("pk", flat=True))
        reminder_ids = [pk for pk in due if pk not in past_maximum]
        with CaptureQueriesContext(connection) as reminder_queries:
            reminded, remind_s = _timed(lambda: sla_reminders_send(cycle_ids=reminder_ids, now=now))
        rows.append(("SLA reminders: one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING",
                     f"{len(reminded)} reminded in {_data(reminder_queries)} statement(s)", f"{remind_s * 1000:.0f} ms"))
        # The cycles past their maximum in three parts, one per routing set-up: no rule (the
        # least-loaded teammate), a weighted rotation over the team (weights 1/2/3; the
        # fair-books weight ledger is written with each decision), capacity-aware.
        RoutingRule.objects.filter(active=True).update(active=False)
        parts = [(label, chunk) for label, chunk in zip(
            ("no rule", "weighted rotation", "capacity-aware"), _thirds(sorted(past_maximum)), strict=True)]
        results, per_strategy = [], []
        started = time.perf_counter()
        for label, chunk in parts:
            if label != "no rule":
                strategy = Strategy.WEIGHTED_ROUND_ROBIN if label == "weighted rotation" else Strategy.CAPACITY_AWARE
                RoutingRule.objects.filter(active=True).update(active=False)
                rule = RoutingRule.objects.create(name=f"Bench {label} {stamp}", position=0, strategy=strategy)
                for order, rep in enumerate(reps):
                    Rep.objects.filter(pk=rep.pk).update(routing_weight=1 + order % 3)
                    RoutingRuleMember.objects.create(rule=rule, rep=rep, order=order)
            loads = TeamLoads()
            counts = []
            for pk in chunk:
                reset_queries()
                with CaptureQueriesContext(connection) as cycle_queries:
                    result = lead_cycle_sla_enforce(cycle_id=pk, now=now, loads=loads)
                results.append(result)
                if result == "reassigned":
                    counts.append(_data(cycle_queries))
            per_strategy.append((label, counts))
        enforce_s = time.perf_counter() - started
        summary = ", ".join(f"{results.count(k)} {k}" for k in sorted(set(results)))
        rows.append(("SLA past maximum: lock, route, re-assign (each its own transaction)", summary,
                     f"{enforce_s:.2f} s ({enforce_s / max(len(past_maximum), 1) * 1000:.1f} ms per cycle)"))
        # The first cycle of each part also reads its team's loads and, after the rule
        # change, reloads the configuration caches (once per run in a worker).
        steady = [n for _label, counts in per_strategy for n in counts[1:]]
        most = max(steady, default=0)
        verdict = "holds" if most <= SLA_TARGET else f"misses (target {SLA_TARGET})"
        by_strategy = "; ".join(
            f"{label}: median {statistics.median(counts) if counts else 0:.0f}, most {max(counts[1:], default=0)}"
            f" (first cycle {counts[0] if counts else 0})" for label, counts in per_strategy)
        statements = (f"Statements per re-assigned cycle (issue 16 target 3: at most {SLA_TARGET} in every routing "
                      f"strategy; transaction control apart) — {by_strategy}: {verdict}. The first cycle of each part "
                      "also reads its team's loads (once per run, kept current as cycles move) and, after the rule "
                      "change, the configuration caches. Asserted per strategy, and for the re-assignment of an "
                      "away rep's leads, in apps/leads/tests/test_sla_statements.py.")
        stdout.write(statements)
        again, rerun_s = _timed(lambda: lead_cycles_past_sla(now=now))
        rows.append(("SLA scan again (everything handled)", f"{len(again)} due", f"{rerun_s * 1000:.0f} ms"))
        idle, abandon_s = _timed(lambda: lead_cycles_to_auto_abandon(now=now))
        rows.append(("Auto-abandon scan", f"{len(idle):,} to abandon", f"{abandon_s * 1000:.0f} ms"))
        business = SlaPolicy(name="b", lead_type="inbound", clock="business", holiday_country="US")
        _, deadline_s = _timed(lambda: [
            policy_deadline(business, time_zone="America/New_York", start=now - dt.timedelta(minutes=i), minutes=1440)
            for i in range(10_000)
        ])
        rows.append(("Business-hours deadline (24 h, US holidays)", "10,000 computed", f"{deadline_s:.2f} s"))
        transaction.set_rollback(True)
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return (
        "## Lead SLA check and auto-abandon\n\n"
        f"{N_CYCLES:,} lead cycles (10 SDRs): {N_PAST_MAXIMUM} past the maximum, {N_PAST_TARGET} past the target, "
        "the rest within SLA or working.\n\n| step | work | time |\n|---|---|---|\n" + table + "\n\n" + statements
    )


SLA_TARGET = 6
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _thirds(items: list) -> list[list]:
    size = -(-len(items) // 3)
    return [items[:size], items[size:2 * size], items[2 * size:]]


def _data(ctx) -> int:
    return sum(not q["sql"].startswith(CONTROL) for q in ctx.captured_queries)


BENCHMARKS = [sla_check_and_auto_abandon]
