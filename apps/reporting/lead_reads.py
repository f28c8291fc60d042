"""Lead-cycle numbers read from the lead rollups (apps.reporting.lead_models), kept by the
triggers of migration 0030_lresp_open_lead_count_triggers.

- Open leads now per rep and lead type (reporting_openleadcount): the scorecard's and the
  balance page's open inbound leads, one row per (rep, lead type) instead of a visit to every
  open cycle.

SNAPSHOTS and REBUILD join apps.reporting.rollups' rebuild and check.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import fetch_dicts

SNAPSHOTS = {
    "open leads now": "SELECT rep_id, lead_type, open FROM reporting_openleadcount WHERE open <> 0",
}
REBUILD = "SELECT reporting_openleads_rebuild()"


def open_leads_by_rep(*, lead_type: str, rep_ids) -> dict[int, int]:
    """rep id (None: not assigned) → open cycles of `lead_type` held now (exceptions left out),
    from the rollup: the same dict as the count over the cycles (balance.open_inbound_leads)."""
    where, params = "o.lead_type = %(lead_type)s AND o.open <> 0", {"lead_type": lead_type}
    if rep_ids is not None:
        where += " AND o.rep_id = ANY(%(rep_ids)s)"
        params["rep_ids"] = list(rep_ids)
    rows = fetch_dicts(f"SELECT o.rep_id, o.open FROM reporting_openleadcount o WHERE {where}", params)
    return {row["rep_id"]: row["open"] for row in rows}
