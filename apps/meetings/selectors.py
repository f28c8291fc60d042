"""Reads for meetings and opportunities: settings, booking defaults, role scoping, queues."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.meetings.defaults import meetings_defaults_ensure
from apps.meetings.models import (
    Meeting,
    MeetingNotification,
    MeetingSettings,
    Opportunity,
    OpportunityStage,
)
from apps.people.models import Rep
from sdrops.access import rep_for_user, scoped_rep_ids, user_sees_everything


def meeting_settings_get() -> MeetingSettings:
    """The one settings row, created with the defaults when missing (a flushed test
    database, or a deployment that skipped nothing but lost the row)."""
    row, _ = MeetingSettings.objects.get_or_create(pk=1)
    return row


# --- booking defaults ------------------------------------------------------------------


def aes_for_sdr(*, sdr: Rep) -> QuerySet[Rep]:
    """The AEs an SDR may book for: their pod partners; an SDR with no partners yet may
    book for any active AE (so a new pod is not blocked by missing admin data)."""
    partners = sdr.ae_partners.filter(role=Rep.Role.AE, active=True)
    if partners.exists():
        return partners.order_by("owner_name")
    return Rep.objects.filter(role=Rep.Role.AE, active=True).order_by("owner_name")


def meeting_default_ae(*, sdr: Rep, segment: str = "") -> Rep | None:
    """The SDR's partner AE for the account's segment, else their first partner AE."""
    candidates = aes_for_sdr(sdr=sdr)
    if segment:
        same_segment = candidates.filter(segment=segment).first()
        if same_segment is not None:
            return same_segment
    return candidates.first()


def sales_manager_for(*, rep: Rep) -> Rep | None:
    """Whom an AE's overdue dispositions escalate to: the manager of the AE's team, else
    the AE's own manager."""
    team = rep.team
    if team is not None and team.manager_id and team.manager_id != rep.pk:
        return team.manager
    return rep.manager


def open_opportunity_for_account(*, account_id: int) -> Opportunity | None:
    """The account's single open opportunity, or None when it has none or several (then
    nobody can tell which deal a new meeting belongs to, and it starts its own)."""
    opportunities = list(Opportunity.objects.filter(account_id=account_id, is_open=True)[:2])
    return opportunities[0] if len(opportunities) == 1 else None


def stage_by_code(code: str) -> OpportunityStage:
    """A stage by its fixed code; the defaults are put back if a flushed database lost them."""
    stage = OpportunityStage.objects.filter(code=code).first()
    if stage is None:

        meetings_defaults_ensure()
        stage = OpportunityStage.objects.get(code=code)
    return stage


def pipeline_stage() -> OpportunityStage | None:
    return OpportunityStage.objects.filter(is_pipeline=True).first()


# --- role scoping -------------------------------------------------------------------------


def user_may_disposition(*, user, meeting: Meeting) -> bool:
    """The AE the meeting was booked for, a manager of that AE, or ops."""
    if user_sees_everything(user):
        return True
    rep = rep_for_user(user)
    if rep is None:
        return False
    if rep.pk == meeting.ae_id:
        return True
    return rep.role == Rep.Role.MANAGER and meeting.ae_id in (scoped_rep_ids(user=user) or set())


def user_may_change_booking(*, user, meeting: Meeting) -> bool:
    """Reschedule or cancel: the booking SDR, the AE, their managers, or ops."""
    if user_may_disposition(user=user, meeting=meeting):
        return True
    rep = rep_for_user(user)
    if rep is None:
        return False
    if rep.pk == meeting.sdr_id:
        return True
    return rep.role == Rep.Role.MANAGER and meeting.sdr_id in (scoped_rep_ids(user=user) or set())


def user_may_book_for(*, user, sdr: Rep) -> bool:
    if user_sees_everything(user):
        return True
    rep = rep_for_user(user)
    if rep is None:
        return False
    return rep.pk == sdr.pk or (rep.role == Rep.Role.MANAGER and sdr.pk in (scoped_rep_ids(user=user) or set()))


# --- queues and lists -----------------------------------------------------------------------


def meetings_to_disposition(*, ae: Rep, now: dt.datetime | None = None) -> QuerySet[Meeting]:
    """An AE's meetings that have started and still await a disposition, oldest first."""
    now = now or timezone.now()
    return (
        Meeting.objects.started(now).filter(ae=ae)
        .select_related("contact", "account", "sdr")
        .order_by("scheduled_at", "pk")
    )


def meetings_overdue(*, rep_ids=None, now: dt.datetime | None = None) -> QuerySet[Meeting]:
    """Undispositioned meetings past their due time; `rep_ids` limits to those AEs."""
    now = now or timezone.now()
    qs = Meeting.objects.overdue(now)
    if rep_ids is not None:
        qs = qs.filter(ae_id__in=rep_ids)
    return qs.select_related("contact", "account", "ae", "sdr").order_by("disposition_due_at", "pk")


def meetings_without_disposition(*, rep_ids, now: dt.datetime) -> list[Meeting]:
    """For the manager's morning email: meetings of these reps (as AE)
    that ended and are not dispositioned yet."""
    return list(
        Meeting.objects.ended(now).filter(ae_id__in=rep_ids)
        .select_related("contact", "account", "ae", "sdr")
        .order_by("scheduled_end_at", "pk")
    )


def meeting_ids_needing_reminder(*, now: dt.datetime) -> list[int]:
    """Ended, undispositioned meetings whose AE has not had the end-of-meeting reminder."""
    return list(
        Meeting.objects.ended(now)
        .exclude(Exists(MeetingNotification.objects.filter(meeting=OuterRef("pk"), kind=MeetingNotification.Kind.REMINDER)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def meeting_ids_needing_escalation(*, now: dt.datetime) -> list[int]:
    """Meetings past their due time without a disposition and not yet escalated."""
    return list(
        Meeting.objects.overdue(now)
        .exclude(
            Exists(MeetingNotification.objects.filter(meeting=OuterRef("pk"), kind=MeetingNotification.Kind.ESCALATION))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lead_no_show_count(*, meeting: Meeting) -> int:
    """No-shows on the same lead: within the meeting's lead cycle (a recycled lead starts
    afresh), or on the contact when the meeting has no cycle."""
    qs = Meeting.objects.filter(status=Meeting.Status.NO_SHOW)
    if meeting.lead_cycle_id:
        return qs.filter(lead_cycle_id=meeting.lead_cycle_id).count()
    return qs.filter(contact_id=meeting.contact_id, lead_cycle__isnull=True).count()


def accounts_with_open_opportunity_ids() -> QuerySet:
    """Account ids with an open opportunity (retrieval exemption, inbound precedence)."""
    return Opportunity.objects.filter(is_open=True).values("account_id")


def accounts_with_meeting_scheduled_ids(*, now: dt.datetime) -> QuerySet:
    """Account ids with a meeting still to come (retrieval exemption)."""
    return Meeting.objects.upcoming(now).values("account_id")
