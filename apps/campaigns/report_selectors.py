"""The campaign report's numbers, computed by PostgreSQL in one statement.

Built on the reporting cohort (apps.reporting.selectors.cohort_sql): the period's lead cycles
in scope with one flag per term (picked up, responded, SQL, Opp …), so "pick-up rate" or
"SQL" mean here exactly what they mean on the lead-response page and the dashboard. A cycle's
campaign is the interaction that opened it (apps.campaigns.models).

The similar cohort of a campaign: the same period's cycles in the same scope, of the same lead
type and source as one of the campaign's own cycles, whose contact never interacted with that
campaign (no CampaignInteraction of the contact with it, at any time).
"""

from __future__ import annotations

from apps.cadences.models import Enrolment, EnrolmentStep
from apps.meetings.models import Meeting, OpportunityStage
from apps.reporting.reports.cadences import EARLY_ABANDON_STEPS
from apps.reporting.selectors import cohort_sql, fetch_dicts

# The cadence ran to its end: every step ended (with or without a response).
ENROLMENT_COMPLETED = [Enrolment.State.POSITIVE, Enrolment.State.NEGATIVE, Enrolment.State.COMPLETED]
# Abandoned early: the cadence page's early abandon — the lead was dispositioned out of its
# cadence after at most EARLY_ABANDON_STEPS steps done ("the reps give up after 1 touchpoint").
STEP_DONE = [EnrolmentStep.Outcome.POSITIVE, EnrolmentStep.Outcome.NEGATIVE, EnrolmentStep.Outcome.NO_RESPONSE]
MEETINGS_HELD = [Meeting.Status.COMPLETED_QUALIFIED, Meeting.Status.COMPLETED_UNQUALIFIED]


def campaign_rows(*, scope) -> list[dict]:
    """One row per campaign with cycles in the period and scope, with its similar cohort."""
    with_sql, params = cohort_sql(scope)
    params.update(
        enrol_completed=[str(v) for v in ENROLMENT_COMPLETED], enrol_dispositioned=str(Enrolment.State.DISPOSITIONED),
        step_done=[str(v) for v in STEP_DONE], early_steps=EARLY_ABANDON_STEPS,
        held=[str(v) for v in MEETINGS_HELD], meeting_qualified=str(Meeting.Status.COMPLETED_QUALIFIED),
        won=str(OpportunityStage.Outcome.WON),
    )
    sql = f"""{with_sql},
        -- an opportunity counts once per campaign, however many of its cycles it came from
        opps AS MATERIALIZED (
            SELECT DISTINCT co.campaign_id, co.id AS cycle_id, o.id AS opp_id, o.amount,
                   st.outcome = %(won)s AS won
            FROM cohort co
            JOIN meetings_meeting m ON m.lead_cycle_id = co.id AND m.status = %(meeting_qualified)s
            JOIN meetings_opportunity o ON o.id = m.opportunity_id AND o.pipeline_at IS NOT NULL
            JOIN meetings_opportunitystage st ON st.id = o.stage_id
            WHERE co.campaign_id IS NOT NULL),
        -- every cycle of the period with a won deal (campaign or not: the cohort needs it too)
        wins AS MATERIALIZED (
            SELECT DISTINCT m.lead_cycle_id AS cycle_id
            FROM meetings_meeting m
            JOIN meetings_opportunity o ON o.id = m.opportunity_id AND o.pipeline_at IS NOT NULL
            JOIN meetings_opportunitystage st ON st.id = o.stage_id AND st.outcome = %(won)s
            WHERE m.status = %(meeting_qualified)s AND m.lead_cycle_id IN (SELECT id FROM cohort)),
        cyc AS MATERIALIZED (
            SELECT co.*, lc.contact_id, w.cycle_id IS NOT NULL AS is_won
            FROM cohort co JOIN people_leadcycle lc ON lc.id = co.id LEFT JOIN wins w ON w.cycle_id = co.id),
        mine AS (
            SELECT c.campaign_id,
                   count(*) AS leads,
                   count(*) FILTER (WHERE c.picked_up) AS picked_up,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY c.response_s) FILTER (WHERE c.responded) AS median_s,
                   count(*) FILTER (WHERE c.is_sql) AS sql,
                   count(*) FILTER (WHERE c.is_opp) AS opp_cycles,
                   count(*) FILTER (WHERE c.is_won) AS won_cycles,
                   count(*) FILTER (WHERE e.completed) AS cadence_completed,
                   count(*) FILTER (WHERE e.early) AS abandoned_early,
                   coalesce(sum(mt.held), 0) AS meetings_held
            FROM cyc c
            LEFT JOIN (SELECT en.lead_cycle_id,
                              bool_or(en.state = ANY(%(enrol_completed)s)) AS completed,
                              bool_or(en.state = %(enrol_dispositioned)s AND coalesce(d.done, 0) <= %(early_steps)s) AS early
                       FROM cadences_enrolment en
                       LEFT JOIN (SELECT st.enrolment_id, count(*) FILTER (WHERE st.outcome = ANY(%(step_done)s)) AS done
                                  FROM cadences_enrolmentstep st
                                  JOIN cadences_enrolment e2 ON e2.id = st.enrolment_id
                                  WHERE e2.lead_cycle_id IN (SELECT id FROM cyc WHERE campaign_id IS NOT NULL)
                                  GROUP BY st.enrolment_id) d ON d.enrolment_id = en.id
                       WHERE en.lead_cycle_id IN (SELECT id FROM cyc WHERE campaign_id IS NOT NULL)
                       GROUP BY en.lead_cycle_id) e ON e.lead_cycle_id = c.id
            LEFT JOIN (SELECT m.lead_cycle_id, count(*) AS held
                       FROM meetings_meeting m
                       WHERE m.status = ANY(%(held)s)
                         AND m.lead_cycle_id IN (SELECT id FROM cyc WHERE campaign_id IS NOT NULL)
                       GROUP BY m.lead_cycle_id) mt ON mt.lead_cycle_id = c.id
            WHERE c.campaign_id IS NOT NULL
            GROUP BY c.campaign_id),
        money AS (
            SELECT campaign_id, count(*) AS opportunities, coalesce(sum(amount), 0) AS pipeline,
                   count(*) FILTER (WHERE won) AS won, coalesce(sum(amount) FILTER (WHERE won), 0) AS won_amount
            FROM (SELECT DISTINCT campaign_id, opp_id, amount, won FROM opps) d
            GROUP BY campaign_id),
        pairs AS (SELECT DISTINCT campaign_id, lead_type, source FROM cyc WHERE campaign_id IS NOT NULL),
        -- the similar cohort: every cycle of the campaign's (lead type, source) pairs, less those
        -- whose contact interacted with the campaign (a hash join of its interactions, not a
        -- lookup per cycle and pair; a cycle matches one pair of a campaign at most)
        by_pair AS (
            SELECT lead_type, source, count(*) AS leads, count(*) FILTER (WHERE is_sql) AS sql,
                   count(*) FILTER (WHERE is_opp) AS opp_cycles, count(*) FILTER (WHERE is_won) AS won_cycles
            FROM cyc GROUP BY lead_type, source),
        touched AS (
            SELECT DISTINCT p.campaign_id, c.id, c.is_sql, c.is_opp, c.is_won
            FROM pairs p
            JOIN campaigns_campaigninteraction ci ON ci.campaign_id = p.campaign_id
            JOIN cyc c ON c.contact_id = ci.contact_id AND c.lead_type = p.lead_type
                      AND c.source IS NOT DISTINCT FROM p.source),
        alike AS (
            SELECT a.campaign_id, (a.leads - coalesce(t.leads, 0))::bigint AS leads,
                   (a.sql - coalesce(t.sql, 0))::bigint AS sql,
                   (a.opp_cycles - coalesce(t.opp_cycles, 0))::bigint AS opp_cycles,
                   (a.won_cycles - coalesce(t.won_cycles, 0))::bigint AS won_cycles
            FROM (SELECT p.campaign_id, sum(b.leads) AS leads, sum(b.sql) AS sql, sum(b.opp_cycles) AS opp_cycles,
                         sum(b.won_cycles) AS won_cycles
                  FROM pairs p JOIN by_pair b ON b.lead_type = p.lead_type AND b.source IS NOT DISTINCT FROM p.source
                  GROUP BY p.campaign_id) a
            LEFT JOIN (SELECT campaign_id, count(*) AS leads, count(*) FILTER (WHERE is_sql) AS sql,
                              count(*) FILTER (WHERE is_opp) AS opp_cycles, count(*) FILTER (WHERE is_won) AS won_cycles
                       FROM touched GROUP BY campaign_id) t ON t.campaign_id = a.campaign_id)
        SELECT k.id AS campaign_id, k.name, k.offer, k.source AS campaign_source, k.cost,
               mine.leads, mine.picked_up, mine.median_s, mine.sql, mine.opp_cycles, mine.won_cycles,
               mine.cadence_completed, mine.abandoned_early, mine.meetings_held,
               coalesce(money.opportunities, 0) AS opportunities, coalesce(money.pipeline, 0) AS pipeline,
               coalesce(money.won, 0) AS won, coalesce(money.won_amount, 0) AS won_amount,
               coalesce(alike.leads, 0) AS similar_leads, coalesce(alike.sql, 0) AS similar_sql,
               coalesce(alike.opp_cycles, 0) AS similar_opp_cycles,
               coalesce(alike.won_cycles, 0) AS similar_won_cycles,
               (SELECT string_agg(DISTINCT p.lead_type || ' / ' || coalesce(nullif(p.source, ''), 'no source'), ', ')
                FROM pairs p WHERE p.campaign_id = k.id) AS similar_by
        FROM mine
        JOIN campaigns_campaign k ON k.id = mine.campaign_id
        LEFT JOIN money ON money.campaign_id = k.id
        LEFT JOIN alike ON alike.campaign_id = k.id
        ORDER BY mine.leads DESC, k.name"""
    return fetch_dicts(sql, params)


def criterion_rows(*, scope) -> list[dict]:
    """Qualified by criterion met, one row per criterion (active, or with checks in the period),
    over the period's lead cycles in scope (with or without a campaign; exceptions left out, as
    in the cohort): the cycles whose criteria were recorded when they were qualified, how many
    met it, by a manager's override, and how many of those met / not met reached the pipeline
    stage (the cohort's Opp flag). One statement."""
    with_sql, params = cohort_sql(scope)
    sql = f"""{with_sql},
        checked AS MATERIALIZED (
            SELECT q.criterion_id, q.cycle_id, q.met, q.overridden_by_id IS NOT NULL AS overridden, co.is_opp
            FROM campaigns_qualificationcheck q JOIN cohort co ON co.id = q.cycle_id)
        SELECT k.code, k.label, k.required, k.help_text,
               count(ch.cycle_id) AS checked,
               count(ch.cycle_id) FILTER (WHERE ch.met) AS met,
               count(ch.cycle_id) FILTER (WHERE ch.overridden) AS overridden,
               count(ch.cycle_id) FILTER (WHERE ch.met AND ch.is_opp) AS met_opp,
               count(ch.cycle_id) FILTER (WHERE NOT ch.met AND ch.is_opp) AS unmet_opp,
               (SELECT count(DISTINCT cycle_id) FROM checked) AS cycles_checked
        FROM campaigns_qualificationcriterion k
        LEFT JOIN checked ch ON ch.criterion_id = k.id
        GROUP BY k.id
        HAVING k.active OR count(ch.cycle_id) > 0
        ORDER BY k.position, k.id"""
    return fetch_dicts(sql, params)
