"""The arrival facts (reporting.ArrivalFact) kept by statement-level triggers: on people_leadcycle
(a statement's inserted cycles get their fact; an update rewrites the facts of the cycles whose
arrival, rep, type, source, policy, response or exception mark it changed; a delete removes
theirs) and on people_rep (a rep's new time zone moves the local day, time and weekday of their
facts). Only cycles with an SLA policy and not marked an exception have a fact, as the
off-hours tables count them.

Why: the off-hours tables converted every cycle of the window to its rep's zone per request
(a per-row time zone lookup: measured ~1.7 µs a row, the largest part of the statement after
the scan of every cycle of the window from the cycle table). The fact keeps the local wall
clock; whether it is off-hours is still decided at read time against the policy's working
days, hours and holidays (the holidays come from Python's holidays package, so no trigger
could keep an off-hours flag exact), so editing a policy needs no recount.

Its rebuild is reporting_arrivals_rebuild() (apps.reporting.lead_reads.REBUILD).
"""

from django.db import migrations

COMPARED = ("rep_id", "lead_type", "source", "sla_policy_id", "assigned_at", "created_at", "first_touch_at",
            "bypassed_working", "response_time", "exception_at")
CHANGED = "(" + ", ".join(f"n.{c}" for c in COMPARED) + ") IS DISTINCT FROM (" + ", ".join(f"o.{c}" for c in COMPARED) + ")"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION reporting_arrivalfact_sql(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
SELECT format($q$
    INSERT INTO reporting_arrivalfact AS f (cycle_id, rep_id, lead_type, source, sla_policy_id, assigned_at, arrival,
                                            local_day, local_time, local_dow, responded, response_s, calendar_s)
    SELECT c.id, c.rep_id, c.lead_type, c.source, c.sla_policy_id, c.assigned_at, l.arrival,
           l.local_at::date, l.local_at::time, extract(isodow FROM l.local_at)::int - 1,
           c.first_touch_at IS NOT NULL AND NOT c.bypassed_working,
           -- the values percentile_cont orders (it takes double precision): selectors.SQL_OFF_HOURS
           EXTRACT(EPOCH FROM COALESCE(c.response_time, c.first_touch_at - c.assigned_at))::float8,
           EXTRACT(EPOCH FROM c.first_touch_at - l.arrival)::float8
    FROM (%s) c
    LEFT JOIN people_rep r ON r.id = c.rep_id
    CROSS JOIN LATERAL (SELECT LEAST(c.created_at, c.assigned_at) AS arrival,
                               LEAST(c.created_at, c.assigned_at) AT TIME ZONE COALESCE(r.time_zone, 'UTC') AS local_at) l
    WHERE c.sla_policy_id IS NOT NULL AND c.exception_at IS NULL
    ORDER BY c.id
    ON CONFLICT (cycle_id) DO UPDATE SET
        rep_id = EXCLUDED.rep_id, lead_type = EXCLUDED.lead_type, source = EXCLUDED.source,
        sla_policy_id = EXCLUDED.sla_policy_id, assigned_at = EXCLUDED.assigned_at, arrival = EXCLUDED.arrival,
        local_day = EXCLUDED.local_day, local_time = EXCLUDED.local_time, local_dow = EXCLUDED.local_dow,
        responded = EXCLUDED.responded, response_s = EXCLUDED.response_s, calendar_s = EXCLUDED.calendar_s
$q$, src)
$fn$;

CREATE OR REPLACE FUNCTION reporting_arrival_cycle_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE reporting_arrivalfact_sql('SELECT * FROM new_rows');
    ELSIF TG_OP = 'UPDATE' THEN
        -- a cycle that no longer has a fact (policy removed, marked an exception) loses it; the
        -- others are rewritten in place (ON CONFLICT)
        DELETE FROM reporting_arrivalfact f USING new_rows n JOIN old_rows o ON o.id = n.id
        WHERE f.cycle_id = n.id AND (n.sla_policy_id IS NULL OR n.exception_at IS NOT NULL) AND __CHANGED__;
        EXECUTE reporting_arrivalfact_sql('SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE __CHANGED__');
    ELSE
        DELETE FROM reporting_arrivalfact f USING old_rows o WHERE f.cycle_id = o.id;
    END IF;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_arrival_rep_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('reporting.rebuilding', true) = 'on' THEN RETURN NULL; END IF;
    UPDATE reporting_arrivalfact f
    SET local_day = (f.arrival AT TIME ZONE COALESCE(r.time_zone, 'UTC'))::date,
        local_time = (f.arrival AT TIME ZONE COALESCE(r.time_zone, 'UTC'))::time,
        local_dow = extract(isodow FROM f.arrival AT TIME ZONE COALESCE(r.time_zone, 'UTC'))::int - 1
    FROM (SELECT n.id, n.time_zone FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE n.time_zone IS DISTINCT FROM o.time_zone) r
    WHERE f.rep_id = r.id;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_arrivals_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_arrivalfact;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION reporting_arrivals_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM reporting_arrivalfact;
    EXECUTE reporting_arrivalfact_sql('SELECT * FROM people_leadcycle');
END $fn$;
""".replace("__CHANGED__", CHANGED)

TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS reporting_arrivals_{event.lower()} ON people_leadcycle;\n"
    f"CREATE TRIGGER reporting_arrivals_{event.lower()} AFTER {event} ON people_leadcycle REFERENCING {refs} "
    "FOR EACH STATEMENT EXECUTE FUNCTION reporting_arrival_cycle_changed();"
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows"))
) + """
DROP TRIGGER IF EXISTS reporting_arrivals_truncate ON people_leadcycle;
CREATE TRIGGER reporting_arrivals_truncate AFTER TRUNCATE ON people_leadcycle
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_arrivals_truncated();
DROP TRIGGER IF EXISTS reporting_arrivals_rep_update ON people_rep;
CREATE TRIGGER reporting_arrivals_rep_update AFTER UPDATE ON people_rep REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reporting_arrival_rep_changed();
"""

BACK = """
DROP TRIGGER IF EXISTS reporting_arrivals_insert ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_arrivals_update ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_arrivals_delete ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_arrivals_truncate ON people_leadcycle;
DROP TRIGGER IF EXISTS reporting_arrivals_rep_update ON people_rep;
DROP FUNCTION IF EXISTS reporting_arrivals_rebuild();
DROP FUNCTION IF EXISTS reporting_arrivals_truncated();
DROP FUNCTION IF EXISTS reporting_arrival_rep_changed();
DROP FUNCTION IF EXISTS reporting_arrival_cycle_changed();
DROP FUNCTION IF EXISTS reporting_arrivalfact_sql(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0031_lresp_arrival_facts"),
        ("leads", "0007_merge_fair_books_and_lead_work"),
        ("people", "0009_contact_phone_linkedin"),
    ]

    operations = [
        migrations.RunSQL("\n".join([FUNCTIONS, TRIGGERS, "SELECT reporting_arrivals_rebuild();"]), BACK),
    ]
