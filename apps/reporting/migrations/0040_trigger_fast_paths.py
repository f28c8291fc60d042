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
same statements and a generic plan kept per session (plan_cache_mode = force_generic_plan: the
ids array is the only parameter, and a custom plan per call is what cost the time). Measured on the
demo organisation, one cycle per call: campaign outcomes 3.7 → 1.0 ms, account contacts 0.56 → 0.29 ms.
The PL/pgSQL refreshes get the same setting."""

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
PLPGSQL_REFRESHES = ["reporting_handlefact_refresh(bigint[])", "reporting_nurturefact_refresh(bigint[])",
                     "reporting_enrolmentfact_refresh(bigint[])"]


def _definition(module: str, text: str, function: str) -> str:
    found = re.search(rf"CREATE OR REPLACE FUNCTION {function}\(.*?\$fn\$;", getattr(_module(module), text), re.S)
    assert found, function
    return found.group(0)


def _as_plpgsql(definition: str) -> str:
    """The same statements as a PL/pgSQL body with a kept generic plan (a SELECT run for its
    effect, the advisory locks, becomes PERFORM)."""
    head, language, body = re.split(r"(LANGUAGE sql(?: VOLATILE)? AS \$fn\$)", definition, maxsplit=1)
    body = body[: body.rindex("$fn$;")].rstrip()
    body = re.sub(r"^(\s*)SELECT count\(pg_advisory_xact_lock", r"\1PERFORM count(pg_advisory_xact_lock", body, count=1)
    if not body.endswith(";"):
        body += ";"
    return (head + "LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$\nBEGIN" + body
            + "\nEND $fn$;")


def _refreshes_forward() -> str:
    return "\n".join([_as_plpgsql(_definition(*row)) for row in SQL_REFRESHES]
                     + [f"ALTER FUNCTION {f} SET plan_cache_mode = force_generic_plan;" for f in PLPGSQL_REFRESHES])


def _refreshes_backward() -> str:
    return "\n".join([_definition(*row) for row in SQL_REFRESHES]
                     + [f"ALTER FUNCTION {f} RESET plan_cache_mode;" for f in PLPGSQL_REFRESHES])


FORWARD = r"""
CREATE OR REPLACE FUNCTION reporting_handlefact_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF coalesce(cardinality(ids), 0) = 0 THEN RETURN; END IF;
    DELETE FROM reporting_handlefact WHERE cycle_id = ANY(ids);
    INSERT INTO reporting_handlefact (cycle_id, rep_id, lead_type, first_touch_at, dispositioned_at, touches)
    SELECT c.id, c.rep_id, c.lead_type, c.first_touch_at, c.dispositioned_at, t.touches
    FROM people_leadcycle c
    LEFT JOIN LATERAL (SELECT count(*) AS touches FROM accounts_activity a
                       WHERE a.contact_id = c.contact_id AND NOT a.automated
                         AND a.type = ANY(ARRAY['call', 'email', 'social', 'meeting'])
                         AND a.occurred_at >= c.assigned_at AND a.occurred_at <= c.dispositioned_at) t ON true
    WHERE c.id = ANY(ids) AND c.dispositioned_at IS NOT NULL AND c.exception_at IS NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_firsttouch_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT FROM new_rows) THEN RETURN NULL; END IF;
        EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT FROM new_rows) THEN RETURN NULL; END IF;
        EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_researchday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION reporting_handlefact_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_handlefact WHERE cycle_id = ANY(ids);
    INSERT INTO reporting_handlefact (cycle_id, rep_id, lead_type, first_touch_at, dispositioned_at, touches)
    SELECT c.id, c.rep_id, c.lead_type, c.first_touch_at, c.dispositioned_at, t.touches
    FROM people_leadcycle c
    LEFT JOIN LATERAL (SELECT count(*) AS touches FROM accounts_activity a
                       WHERE a.contact_id = c.contact_id AND NOT a.automated
                         AND a.type = ANY(ARRAY['call', 'email', 'social', 'meeting'])
                         AND a.occurred_at >= c.assigned_at AND a.occurred_at <= c.dispositioned_at) t ON true
    WHERE c.id = ANY(ids) AND c.dispositioned_at IS NOT NULL AND c.exception_at IS NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_firsttouch_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE reporting_researchday_sql('SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows');
    ELSE
        EXECUTE reporting_researchday_sql('SELECT -1 AS sign, * FROM old_rows');
    END IF;
    RETURN NULL;
END $fn$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0039_merge_report_speed"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunSQL(_refreshes_forward(), _refreshes_backward()),
    ]
