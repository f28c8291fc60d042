"""Qualification you can audit (issue 19 item 4): the sales-ready criteria captured when a
lead is qualified or a meeting is completed – qualified.

Every entry point that qualifies calls one of the two wrappers below — the lead page and
`POST /api/lead-cycles/{id}/disposition/` call `lead_disposition_with_criteria`, the meeting
disposition form and `POST /api/meetings/{id}/disposition/` call
`meeting_disposition_with_criteria` — and they call `qualification_record` inside the
qualifying transaction with the codes the user ticked (`criteria_met`). Every active criterion
gets a check row (met or not); a *required* one not met refuses the qualification unless the
actor may override the evidence rule (a manager or ops: `apps.leads.rules.may_qualify_without_evidence`)
and asked to — then the override is recorded on the row.

`criteria_met=None` means the entry point captured nothing (an API client that does not send
the field): with no required criterion nothing is recorded (an unknown is not a "not met");
with a required one it counts as none met, so the API cannot step around the rule.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.campaigns.models import QualificationCheck, QualificationCriterion
from apps.leads.models import LeadCycle
from apps.leads.rules import may_qualify_without_evidence
from apps.leads.services import lead_cycle_disposition
from apps.meetings.models import Meeting
from apps.meetings.services import meeting_disposition
from apps.people.actors import actor_user

DEFAULTS = [
    ("company_fit", "Company fit", "The account matches the ICP (segment, size, industry)."),
    ("access_to_power", "Access to power", "We are talking to, or have a path to, the decision maker."),
    ("pain", "Pain", "A problem we solve, in their words."),
    ("timing", "Timing", "A reason to act this quarter or a dated event."),
]


def qualification_defaults_ensure(apps=None) -> None:
    from django.apps import apps as global_apps  # noqa: PLC0415 (a data migration passes its historical apps)

    Criterion = (apps or global_apps).get_model("campaigns", "QualificationCriterion")
    for position, (code, label, help_text) in enumerate(DEFAULTS):
        Criterion.objects.get_or_create(code=code, defaults={"label": label, "help_text": help_text, "position": position})


def qualification_record(*, criteria_met, actor, cycle=None, meeting=None, override: bool = False) -> list[QualificationCheck]:
    """Record the checks (call inside the qualifying transaction); raises ValidationError."""
    criteria = list(QualificationCriterion.objects.filter(active=True))
    if criteria_met is None:
        if not any(c.required for c in criteria):
            return []
        criteria_met = []
    codes = {criterion.code for criterion in criteria}
    unknown = sorted(set(criteria_met) - codes)
    if unknown:
        raise ValidationError({"criteria_met": f"Unknown qualification criteria: {', '.join(unknown)}; expected {', '.join(sorted(codes))}."})
    user = actor_user(actor)
    missing = [c for c in criteria if c.required and c.code not in criteria_met]
    if missing:
        names = ", ".join(c.label for c in missing)
        if not override:
            raise ValidationError({"criteria_met": f"Qualified needs these criteria met: {names} (or a manager's override)."})
        if not may_qualify_without_evidence(user):
            raise ValidationError({"criteria_met": f"Only a manager or ops can qualify without: {names}."})
    rows = [
        QualificationCheck(cycle=cycle, meeting=meeting, criterion=c, met=c.code in criteria_met, recorded_by=user,
                           overridden_by=user if c in missing else None)
        for c in criteria
    ]
    return QualificationCheck.objects.bulk_create(rows)


def lead_disposition_with_criteria(*, cycle, disposition: str, reason=None, actor=None, override: bool = False,
                                   criteria_met=None, note: str = "") -> LeadCycle:
    """The lead page's and the API's disposition: `lead_cycle_disposition` and, for qualified,
    the criteria checks in one transaction (a refused criterion leaves the lead as it was)."""
    with transaction.atomic():
        cycle = lead_cycle_disposition(cycle=cycle, disposition=disposition, reason=reason, actor=actor, override=override,
                                       note=note)
        if disposition == LeadCycle.Disposition.QUALIFIED:
            qualification_record(criteria_met=criteria_met, actor=actor, cycle=cycle, override=override)
    return cycle


def meeting_disposition_with_criteria(*, meeting: Meeting, outcome: str, actor, notes: str = "", lead_reason=None,
                                      override: bool = False, criteria_met=None, at=None) -> Meeting:
    """The meeting disposition (form and API): `meeting_disposition` and, for Completed –
    Qualified, the criteria checks in one transaction (a refused criterion leaves the meeting
    scheduled). The checks belong to the meeting, and to its lead cycle as well when this
    disposition is what qualified the cycle (it was still open): the cycle's qualification then
    has its criteria, as if qualified on the lead page. A cycle qualified before keeps its own."""
    with transaction.atomic():
        qualifies_cycle = bool(meeting.lead_cycle_id) and LeadCycle.objects.open().filter(pk=meeting.lead_cycle_id).exists()
        meeting = meeting_disposition(meeting=meeting, outcome=outcome, actor=actor, notes=notes, lead_reason=lead_reason,
                                      at=at)
        if outcome == Meeting.Status.COMPLETED_QUALIFIED:
            cycle = None
            if qualifies_cycle:
                cycle = LeadCycle.objects.filter(pk=meeting.lead_cycle_id, disposition=LeadCycle.Disposition.QUALIFIED).first()
            qualification_record(criteria_met=criteria_met, actor=actor, meeting=meeting, cycle=cycle, override=override)
    return meeting
