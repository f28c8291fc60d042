"""Benchmarks for the lead lifecycle's scheduled work: the 5-minute SLA check and the
auto-abandon scan over a large table of cycles. Everything runs in one transaction that is
rolled back, so the bench database is left as it was (and no email is sent)."""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction
from django.utils import timezone

N_CYCLES = 50_000
N_PAST_TARGET = 800
N_PAST_MAXIMUM = 200


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def sla_check_and_auto_abandon(*, stdout, options) -> str:
    from apps.accounts.models import Activity
    from apps.leads.business_hours import policy_deadline
    from apps.leads.defaults import lifecycle_defaults_ensure
    from apps.leads.models import LeadCycle, SlaPolicy
    from apps.leads.services import lead_cycle_sla_enforce, lead_cycles_past_sla, lead_cycles_to_auto_abandon
    from apps.people.models import Contact, Rep, Team
    from apps.people.tests.factories import RepFactory

    rows = []
    with transaction.atomic():
        lifecycle_defaults_ensure()
        now = timezone.now()
        team = Team.objects.create(name=f"Bench team {now.timestamp()}")
        reps = [RepFactory(role=Rep.Role.SDR, team=team, owner_name=f"Bench SDR {now.timestamp()} {i}") for i in range(10)]
        policy = SlaPolicy.objects.get(lead_type="inbound", source="", active=True)
        stdout.write(f"creating {N_CYCLES} contacts and cycles")
        contacts = Contact.objects.bulk_create(
            [Contact(email=f"bench{i}.{int(now.timestamp())}@bench.example") for i in range(N_CYCLES)], batch_size=5000
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
        results, enforce_s = _timed(lambda: [lead_cycle_sla_enforce(cycle_id=pk, now=now) for pk in due])
        summary = ", ".join(f"{results.count(k)} {k}" for k in sorted(set(results)))
        rows.append(("SLA enforce: lock, record breach, remind / re-assign", summary,
                     f"{enforce_s:.2f} s ({enforce_s / max(len(due), 1) * 1000:.1f} ms per cycle)"))
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
        "the rest within SLA or working.\n\n| step | work | time |\n|---|---|---|\n" + table
    )


BENCHMARKS = [sla_check_and_auto_abandon]
