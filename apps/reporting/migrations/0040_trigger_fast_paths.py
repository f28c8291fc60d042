"""Three costs the rollup triggers paid on every write, found with track_functions during the
load benchmark (docs/benchmarks.md, "Portal under load").

The handle facts: every activity logged paid for a handle-fact refresh of no cycle: the activity trigger
(migration 0022) asks reporting_handlefact_refresh for the dispositioned cycles a touch falls in,
which for a touch logged now is almost always none, and the refresh still ran its DELETE and
INSERT on reporting_handlefact — two statements whose statement-level triggers (the handle-day
rollup, migration 0030) fire even when no row changes. Measured on the demo organisation: 1.3 ms
of the 4.8 ms of SQL per logged call. An empty list now returns before any statement; with ids
the function is what it was.

The research days: the first-touch upsert (INSERT … ON CONFLICT DO UPDATE … WHERE changed, migration
0005) fires both the INSERT and the UPDATE statement triggers of reporting_firsttouch, each running
the research-day statement over empty transition tables, though a rep's later touches of an account
change no first touch (0.45 ms a call). They now return when nothing came in.

The refresh functions: the per-cycle (and per-account, per-opportunity) refreshes the triggers call
were SQL functions, which PostgreSQL plans afresh on every call — for the campaign outcome refresh
4.9 ms of planning for 0.6 ms of work, on every lead cycle written. They are now PL/pgSQL with the
same statements and, for a call with few ids (the writes of a request), a generic plan kept per
session (plan_cache_mode = force_generic_plan: the ids array is the only parameter, and a custom
plan per call is what cost the time); a call with many ids (a bulk statement) plans its statements
for the list at hand, as before. Measured on the demo organisation, one cycle per call: campaign
outcomes 3.7 → 1.0 ms, account contacts 0.56 → 0.29 ms."""

import importlib
import re

from django.db import migrations


def _module(name: str):
    return importlib.import_module(f"apps.reporting.migrations.{name}")


# (migration whose text defines the SQL function, the name of that text, the function)
SQL_REFRESHES = [
    ("0005_rollup_triggers", "FLAGS_FUNCTION", "reporting_cycle_flags_refresh"),
    ("0027_campaign_outcome_triggers", "FUNCTIONS", "reporting_campaignoutcome_refresh"),
    ("0030_camp_campaign_touches", "FUNCTIONS", "reporting_campaigntouch_refresh"),
    ("0032_camp_campaign_opportunities", "FUNCTIONS", "reporting_campaignopp_refresh"),
    ("0032_icp_account_contact_triggers", "FUNCTIONS", "reporting_accountcontacts_refresh"),
]
# Up to this many ids a call runs the statements with the plan kept for the session; more ids
# (a bulk statement: an import, a distribution, the bench seed) plan them for the actual list,
# as the SQL functions did: a plan made for a few ids probes an index per id where a large list
# wants hash joins (the bench seed's enrolment step took 2.5× as long on the kept plan).
KEPT_PLAN_IDS = 50


def _definition(module: str, text: str, function: str) -> str:
    found = re.search(rf"CREATE OR REPLACE FUNCTION {function}\(.*?\$fn\$;", getattr(_module(module), text), re.S)
    assert found, function
    return found.group(0)


def _as_plpgsql(definition: str) -> str:
    """The same statements as a PL/pgSQL body: run as they are (a SELECT run for its effect, the
    advisory locks, becomes PERFORM) with a generic plan kept for the session when the ids are
    few, and by EXECUTE, planned for the list at hand, when they are many."""
    head, _language, body = re.split(r"(LANGUAGE sql(?: VOLATILE)? AS \$fn\$)", definition, maxsplit=1)
    param = re.search(r"\((\w+) bigint\[\]\)", head).group(1)
    body = body[: body.rindex("$fn$;")].strip()
    statements = [part.strip() for part in re.split(r";\s*\n", body.rstrip(";")) if part.strip()]
    assert all("$run$" not in part for part in statements)
    kept = "\n".join("    " + re.sub(r"^SELECT count\(pg_advisory_xact_lock", "PERFORM count(pg_advisory_xact_lock", part)
                     + ";" for part in statements)
    named = re.compile(rf"\b{param}\b")
    planned = "\n".join("    EXECUTE $run$" + named.sub("$1", part) + f"$run$ USING {param};" for part in statements)
    return (head + "LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$\nBEGIN\n"
            + f"IF coalesce(cardinality({param}), 0) <= {KEPT_PLAN_IDS} THEN\n" + kept + "\nELSE\n" + planned
            + "\nEND IF;\nEND $fn$;")


def _refreshes_forward() -> str:
    return "\n".join(_as_plpgsql(_definition(*row)) for row in SQL_REFRESHES)


def _refreshes_backward() -> str:
    return "\n".join(_definition(*row) for row in SQL_REFRESHES)


def _handlefact_refresh() -> str:
    return _definition("0022_program_rollup_triggers", "FUNCTIONS", "reporting_handlefact_refresh")


def _firsttouch_changed() -> str:
    return _definition("0005_rollup_triggers", "ACTIVITY_FUNCTIONS", "reporting_firsttouch_changed")


def _with_early_returns(definition: str, lines: list[tuple[str, str]]) -> str:
    for after, added in lines:
        assert after in definition, after
        definition = definition.replace(after, after + added, 1)
    return definition


NOTHING_CAME_IN = "        IF NOT EXISTS (SELECT FROM new_rows) THEN RETURN NULL; END IF;\n"
FORWARD = "\n".join([
    _with_early_returns(_handlefact_refresh(), [("BEGIN\n", "    IF coalesce(cardinality(ids), 0) = 0 THEN RETURN; END IF;\n")]),
    _with_early_returns(_firsttouch_changed(), [("    IF TG_OP = 'INSERT' THEN\n", NOTHING_CAME_IN),
                                                ("    ELSIF TG_OP = 'UPDATE' THEN\n", NOTHING_CAME_IN)]),
])
BACKWARD = "\n".join([_handlefact_refresh(), _firsttouch_changed()])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0039_merge_report_speed"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunSQL(_refreshes_forward(), _refreshes_backward()),
    ]
