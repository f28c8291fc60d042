"""The sales rows of the bench organisation (apps.reporting.bench_seed), set-based: each new
qualified cycle's meeting (completed as qualified by the SDR's partner AE) and its opportunity
with its events, other meetings (to come, no-shows, cancellations, completed unqualified),
cadence enrolments with their steps, and returns. Run inside bench_seed's transaction, after
its `bench_cycle` staging table and `pg_temp.bench_r` exist; `params` carries `after`,
`after_cycle` (the last ids seed_demo made), `now` and the seed's salt `s`."""

from __future__ import annotations

MEETING_COLUMNS = """contact_id, account_id, lead_cycle_id, sdr_id, ae_id, kind, scheduled_at, scheduled_end_at, notes,
    sdr_attends, status, disposition_due_at, dispositioned_at, disposition_notes, disposition_late, cancelled_by, booked_at,
    booked_by_id, dispositioned_by_id"""
QUALIFIED_MEETINGS_SQL = f"""
INSERT INTO meetings_meeting ({MEETING_COLUMNS})
SELECT c.contact_id, ct.account_id, c.id, c.rep_id, ae.id, 'iqm', b.start_at, b.start_at + interval '30 minutes', '', true,
       'completed_qualified', b.start_at + interval '1 day 30 minutes', c.dispositioned_at, 'Qualified: budget and a timeline.',
       c.dispositioned_at > b.start_at + interval '1 day 30 minutes', '', b.booked_at, sdr.user_id, ae.user_id
FROM people_leadcycle c
JOIN bench_cycle b ON b.contact_id = c.contact_id
JOIN people_contact ct ON ct.id = c.contact_id
JOIN people_rep sdr ON sdr.id = c.rep_id
JOIN LATERAL (SELECT r.id, r.user_id FROM people_rep_ae_partners p JOIN people_rep r ON r.id = p.to_rep_id
              WHERE p.from_rep_id = c.rep_id ORDER BY r.id LIMIT 1) ae ON true
WHERE c.id > %(after_cycle)s AND c.disposition = 'qualified'
ORDER BY c.id
"""
# A fifth of the other touched leads of the new accounts booked a meeting too.
OTHER_MEETINGS_SQL = f"""
INSERT INTO meetings_meeting ({MEETING_COLUMNS})
SELECT c.contact_id, ct.account_id, c.id, c.rep_id, ae.id, 'iqm', b.start_at, b.start_at + interval '30 minutes', '', true,
       st.status, b.start_at + interval '1 day 30 minutes',
       CASE WHEN st.status IN ('no_show', 'completed_unqualified') THEN b.start_at + interval '2 hours' END, '', false,
       CASE WHEN st.status = 'cancelled' THEN 'prospect' ELSE '' END, b.booked_at, sdr.user_id,
       CASE WHEN st.status IN ('no_show', 'completed_unqualified') THEN ae.user_id END
FROM people_leadcycle c
JOIN bench_cycle b ON b.contact_id = c.contact_id
JOIN people_contact ct ON ct.id = c.contact_id
JOIN people_rep sdr ON sdr.id = c.rep_id
JOIN LATERAL (SELECT r.id, r.user_id FROM people_rep_ae_partners p JOIN people_rep r ON r.id = p.to_rep_id
              WHERE p.from_rep_id = c.rep_id ORDER BY r.id LIMIT 1) ae ON true
CROSS JOIN LATERAL (SELECT CASE
        WHEN c.state = 'working' AND b.start_at > %(now)s THEN 'scheduled'
        WHEN c.state = 'working' AND b.start_at + interval '2 hours' < %(now)s
            THEN (ARRAY['no_show', 'cancelled'])[1 + floor(2 * pg_temp.bench_r(c.id, %(s)s + 61))::int]
        WHEN c.disposition = 'unqualified' AND b.start_at + interval '2 hours' < c.dispositioned_at THEN 'completed_unqualified'
        END AS status) st
WHERE c.id > %(after_cycle)s AND c.disposition <> 'qualified' AND b.start_at > b.booked_at AND st.status IS NOT NULL
  AND pg_temp.bench_r(c.id, %(s)s + 60) < 0.2
ORDER BY c.id
"""
# 60% of the qualified meetings' opportunities reach the pipeline with an amount for the
# account's segment (the demo's AMOUNTS); of those older than a month, a quarter won, a fifth lost.
OPPORTUNITIES_SQL = """
CREATE TEMP TABLE bench_opportunity ON COMMIT DROP AS
SELECT m.id AS meeting_id, m.account_id, m.ae_id, m.sdr_id, m.dispositioned_at AS created_at, o.pipeline_at,
       CASE WHEN o.pipeline_at IS NULL THEN 'meeting_completed'
            WHEN o.pipeline_at > %(now)s - interval '30 days' THEN 'pipeline'
            WHEN o.u < 0.25 THEN 'closed_won' WHEN o.u < 0.45 THEN 'closed_lost' ELSE 'pipeline' END AS stage,
       round(CASE a.segment WHEN 'enterprise' THEN 120000 + 360000 * o.v WHEN 'mid_market' THEN 30000 + 90000 * o.v
                            WHEN 'pubsec' THEN 50000 + 200000 * o.v ELSE 8000 + 22000 * o.v END::numeric, -3) AS amount
FROM meetings_meeting m
JOIN accounts_account a ON a.id = m.account_id
CROSS JOIN LATERAL (SELECT CASE WHEN pg_temp.bench_r(m.id, %(s)s + 70) < 0.6
                                     AND m.dispositioned_at + (1 + 5 * pg_temp.bench_r(m.id, %(s)s + 71)) * interval '1 day' <= %(now)s
                                THEN m.dispositioned_at + (1 + 5 * pg_temp.bench_r(m.id, %(s)s + 71)) * interval '1 day' END
                           AS pipeline_at, pg_temp.bench_r(m.id, %(s)s + 72) AS u, pg_temp.bench_r(m.id, %(s)s + 73) AS v) o
WHERE m.lead_cycle_id > %(after_cycle)s AND m.status = 'completed_qualified';
INSERT INTO meetings_opportunity (account_id, name, stage_id, is_open, amount, close_date, owner_id, sourcing_sdr_id,
    source_meeting_id, closed_lost_reason, closed_lost_details, pipeline_at, closed_at, created_at, created_by_id)
SELECT b.account_id, a.name || ' — new business', st.id, st.outcome = 'open',
       CASE WHEN b.pipeline_at IS NOT NULL THEN b.amount END,
       CASE WHEN st.outcome <> 'open' THEN (b.pipeline_at + interval '20 days')::date
            WHEN b.pipeline_at IS NOT NULL THEN (%(now)s + (10 + b.meeting_id %% 110) * interval '1 day')::date END,
       b.ae_id, b.sdr_id, b.meeting_id, CASE WHEN st.outcome = 'lost' THEN 'other' ELSE '' END, '', b.pipeline_at,
       CASE WHEN st.outcome <> 'open' THEN b.pipeline_at + interval '20 days' END, b.created_at, ae.user_id
FROM bench_opportunity b
JOIN accounts_account a ON a.id = b.account_id
JOIN meetings_opportunitystage st ON st.code = b.stage
JOIN people_rep ae ON ae.id = b.ae_id
ORDER BY b.meeting_id;
UPDATE meetings_meeting m SET opportunity_id = o.id FROM meetings_opportunity o
WHERE o.source_meeting_id = m.id AND m.lead_cycle_id > %(after_cycle)s;
INSERT INTO meetings_opportunityevent (kind, occurred_at, note, actor_id, opportunity_id, from_stage_id, to_stage_id)
SELECT e.kind, e.at, '', ae.user_id, o.id, e.from_stage, e.to_stage
FROM meetings_opportunity o
JOIN meetings_meeting m ON m.id = o.source_meeting_id
JOIN people_rep ae ON ae.id = o.owner_id
JOIN meetings_opportunitystage st ON st.id = o.stage_id
CROSS JOIN LATERAL (
    SELECT 'created' AS kind, o.created_at AS at, NULL::bigint AS from_stage,
           (SELECT id FROM meetings_opportunitystage WHERE code = 'meeting_completed') AS to_stage
    UNION ALL
    SELECT 'stage', o.pipeline_at, (SELECT id FROM meetings_opportunitystage WHERE code = 'meeting_completed'),
           (SELECT id FROM meetings_opportunitystage WHERE code = 'pipeline') WHERE o.pipeline_at IS NOT NULL
    UNION ALL
    SELECT 'stage', o.closed_at, (SELECT id FROM meetings_opportunitystage WHERE code = 'pipeline'), st.id
    WHERE o.closed_at IS NOT NULL
) e
WHERE m.lead_cycle_id > %(after_cycle)s
ORDER BY o.id, e.at;
UPDATE people_leadcycle c SET dispositioned_by_id = m.dispositioned_by_id FROM meetings_meeting m
WHERE m.lead_cycle_id = c.id AND c.id > %(after_cycle)s AND m.status = 'completed_qualified';
"""

# A third of the new touched leads enrolled in their lead type's first cadence (still active in its
# first 12 days), ended by hash: a
# positive or negative response at some step, run to the end, dispositioned mid-way, or the
# last step not completed. Steps before the end step have no response (1 in 7 not completed).
ENROLMENTS_SQL = """
INSERT INTO cadences_enrolment (contact_id, cadence_id, rep_id, lead_cycle_id, state, enrolled_at, ended_at)
SELECT c.contact_id, cad.id, c.rep_id, c.id,
       CASE WHEN c.assigned_at + interval '12 days' > %(now)s THEN 'active'
            ELSE (ARRAY['completed', 'positive', 'negative', 'dispositioned', 'dispositioned', 'incomplete'])[1 + (c.id / 3) %% 6] END,
       c.assigned_at, CASE WHEN c.assigned_at + interval '12 days' <= %(now)s THEN c.assigned_at + interval '12 days' END
FROM people_leadcycle c
CROSS JOIN LATERAL (SELECT id FROM cadences_cadence WHERE lead_type = c.lead_type AND active ORDER BY id LIMIT 1) cad
WHERE c.id > %(after_cycle)s AND c.first_touch_at IS NOT NULL AND c.rep_id IS NOT NULL AND c.id %% 3 = 0
  AND NOT EXISTS (SELECT 1 FROM cadences_enrolment x WHERE x.contact_id = c.contact_id)
ORDER BY c.id
"""
STEPS_SQL = """
INSERT INTO cadences_enrolmentstep (enrolment_id, step_id, position, channel, due_at, outcome, ended_at, ended_by_system)
SELECT e.id, st.id, st.position, st.channel, e.enrolled_at + st.day_offset * interval '1 day', o.outcome,
       CASE WHEN o.outcome = 'pending' THEN NULL ELSE e.enrolled_at + st.day_offset * interval '1 day' END, false
FROM cadences_enrolment e
JOIN cadences_cadencestep st ON st.cadence_id = e.cadence_id
CROSS JOIN LATERAL (SELECT CASE WHEN e.state = 'completed' THEN n.steps ELSE 1 + e.id %% n.steps END AS last
                    FROM (SELECT count(*) AS steps FROM cadences_cadencestep s2 WHERE s2.cadence_id = e.cadence_id) n) k
CROSS JOIN LATERAL (SELECT CASE
        WHEN e.state = 'active' THEN CASE WHEN e.enrolled_at + st.day_offset * interval '1 day' <= %(now)s
                                          THEN 'no_response' ELSE 'pending' END
        WHEN st.position > k.last THEN 'pending'
        WHEN st.position < k.last THEN CASE WHEN (e.id + st.position) %% 7 = 0 THEN 'not_completed' ELSE 'no_response' END
        WHEN e.state = 'positive' THEN 'positive'
        WHEN e.state = 'negative' THEN 'negative'
        WHEN e.state = 'incomplete' THEN 'not_completed'
        ELSE 'no_response' END AS outcome) o
WHERE e.lead_cycle_id > %(after_cycle)s
ORDER BY e.id, st.position
"""
# 2% of the new owned accounts returned by their SDR over the last 90 days, mostly reviewed.
RETURNS_SQL = """
INSERT INTO routing_returnrequest (account_id, account_name, rep_id, reason, note, get_back_on, status, outcome,
    review_note, reviewed_at, created_at)
SELECT a.id, a.name, a.owner_id, r.reason, '', CASE WHEN r.reason = 'get_back_to_me' THEN (%(now)s + interval '90 days')::date END,
       s.status, CASE WHEN s.status = 'approved' THEN 'rest' ELSE '' END, '',
       CASE WHEN s.status <> 'pending' THEN %(now)s - (a.id %% 90) * interval '1 day' + interval '2 hours' END,
       %(now)s - (a.id %% 90) * interval '1 day'
FROM accounts_account a
CROSS JOIN LATERAL (SELECT (ARRAY['duplicate', 'get_back_to_me', 'no_icp_fit', 'no_relevant_contact', 'not_interested',
                                  'out_of_business', 'bad_data'])[1 + (a.id / 50) %% 7] AS reason) r
CROSS JOIN LATERAL (SELECT (ARRAY['pending', 'approved', 'approved', 'rejected'])[1 + (a.id / 7) %% 4] AS status) s
WHERE a.id > %(after)s AND a.owner_id IS NOT NULL AND a.id %% 50 = 0 AND (r.reason <> 'duplicate' OR s.status <> 'pending')
ORDER BY a.id
"""


# 3% of the new cycles taken out of the numbers by ops with a reason from the list, a day
# after assignment, with the lead event the service writes.
EXCEPTIONS_SQL = """
WITH marked AS (
    UPDATE people_leadcycle c SET exception_reason_id = r.id, exception_at = c.assigned_at + interval '1 day',
           exception_by_id = %(ops_user)s, exception_note = ''
    FROM (SELECT id, label, row_number() OVER (ORDER BY position, id) AS n, count(*) OVER () AS reasons
          FROM leads_exceptionreason WHERE active) r
    WHERE c.id > %(after_cycle)s AND pg_temp.bench_r(c.id, %(s)s + 80) < 0.03 AND c.assigned_at + interval '1 day' <= %(now)s
      AND r.n = 1 + c.id %% r.reasons
    RETURNING c.id, c.state, c.rep_id, c.exception_at, r.label
)
INSERT INTO people_leadcycleevent (cycle_id, kind, from_state, to_state, from_rep_id, to_rep_id, actor_id, occurred_at, note)
SELECT id, 'exception_marked', state, state, rep_id, rep_id, %(ops_user)s, exception_at, label FROM marked ORDER BY id
"""


def exceptions(cursor, params: dict) -> int:
    cursor.execute(EXCEPTIONS_SQL, params)
    return cursor.rowcount


def meetings_and_opportunities(cursor, params: dict) -> dict[str, int]:
    cursor.execute(QUALIFIED_MEETINGS_SQL, params)
    out = {"qualified meetings": cursor.rowcount}
    cursor.execute(OTHER_MEETINGS_SQL, params)
    out["other meetings"] = cursor.rowcount
    cursor.execute(OPPORTUNITIES_SQL, params)
    cursor.execute("SELECT count(*) FROM bench_opportunity")
    out["opportunities"] = cursor.fetchone()[0]
    return out


def enrolments_and_returns(cursor, params: dict) -> dict[str, int]:
    cursor.execute(ENROLMENTS_SQL, params)
    out = {"cadence enrolments": cursor.rowcount}
    cursor.execute(STEPS_SQL, params)
    out["cadence steps"] = cursor.rowcount
    cursor.execute(RETURNS_SQL, params)
    out["returns"] = cursor.rowcount
    return out
