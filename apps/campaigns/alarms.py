"""Cherry-picking and deals-gone-dark alarms (issue 19, item 5): on the manager's home and
by email to the manager, each raised once per occurrence (Alarm.kind + key is unique).

- Cherry-picking: a rep dispositioned at least N leads of one campaign (or, without one, one
  source) without a real touch (the lead never reached working) within H hours — the seed's
  tradeshow list unqualified an hour after upload. Scheduled jobs' dispositions (auto-abandon,
  a lost deal) never count, nor do lead cycles a manager or ops marked an exception
  (apps.leads.services.exceptions: taken out of every number, so out of the alarm's count too;
  a cycle marked after its alarm was raised leaves that alarm as it is). A lead is in at most
  one such alarm; a new alarm needs N new ones.
- SAO gone dark: an open opportunity past the pipeline stage whose AE and sourcing SDR logged
  no real touch on its account for D days, or whose stage has not moved while they logged at
  least the seed's 3 calls and 3 emails. Once per opportunity and stage.
- IQM pending SAO: a Completed – Qualified meeting whose opportunity has not reached the
  pipeline stage D days after the meeting. Once per meeting.
- Account renamed more than once / close date pushed more than once: read from the field
  history the database triggers keep (AccountNameChange, OpportunityCloseDateChange in
  models.py). A change is an occurrence when it makes at least N changes of that record within
  D days (itself included): with N = 2 the second rename raises one alarm, a third another.
  Only pushes (a close date moved later) count; pulling a date in or setting a first one does
  not. The alarm goes to the manager of the account's owner (an account in the pool has no one
  to tell: none) or of the opportunity's owner (else its sourcing SDR) — the person who keeps
  the record.

Run by the scheduled job `campaigns.alarms_raise` (every 15 minutes); the email goes after
commit and `emailed_at` marks it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from apps.accounts.models import Account, Activity, ActivityType
from apps.campaigns.models import (
    AccountNameChange,
    Alarm,
    AlarmSettings,
    Campaign,
    CampaignInteraction,
    OpportunityCloseDateChange,
)
from apps.leads.models import LeadCycle
from apps.meetings.models import Meeting, Opportunity, OpportunityEvent
from apps.people.models import Rep
from sdrops import mail
from sdrops.access import alarms_visible_to

logger = logging.getLogger(__name__)
REAL_TOUCHES = (ActivityType.CALL, ActivityType.EMAIL, ActivityType.SOCIAL, ActivityType.MEETING)


def manager_of(rep: Rep | None) -> Rep | None:
    if rep is None:
        return None
    if rep.team_id and rep.team.manager_id:
        return rep.team.manager
    return rep.manager


def _raise(*, kind: str, key: str, rep: Rep, title: str, detail: str, now: dt.datetime, cycles=(), **links) -> Alarm | None:
    """Create the alarm unless this occurrence was raised before; mail the manager after commit."""
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(kind=kind, key=key[:200], rep=rep, manager=manager_of(rep), title=title[:255],
                                         detail=detail, raised_at=now, **links)
            if cycles:
                alarm.cycles.set(cycles)
    except IntegrityError:
        return None  # raised before (or by a concurrent run)
    transaction.on_commit(lambda: alarm_email_send(alarm_id=alarm.pk))
    return alarm


def cherry_picking_raise(*, now: dt.datetime, settings_row: AlarmSettings) -> int:
    since = now - dt.timedelta(hours=settings_row.cherry_pick_hours)
    link = CampaignInteraction.objects.filter(lead_cycle=OuterRef("pk")).values("campaign_id")[:1]
    already = Alarm.cycles.through.objects.filter(leadcycle_id=OuterRef("pk"), alarm__kind=Alarm.Kind.CHERRY_PICKING)
    rows = list(
        LeadCycle.objects.counted().filter(state=LeadCycle.State.DISPOSITIONED, bypassed_working=True, dispositioned_by_system=False,
                                 dispositioned_at__gte=since, dispositioned_at__lte=now, rep__isnull=False)
        .exclude(Exists(already))
        .annotate(campaign_id=link)
        .values_list("pk", "rep_id", "campaign_id", "source", "disposition")
    )
    groups: dict[tuple, list] = {}
    for pk, rep_id, campaign_id, source, disposition in rows:
        group = ("campaign", campaign_id) if campaign_id else ("source", source or "none")
        groups.setdefault((rep_id, group), []).append((pk, disposition))
    raised = 0
    due = {key: items for key, items in groups.items() if len(items) >= settings_row.cherry_pick_count}
    reps = Rep.objects.select_related("team__manager__user", "manager__user", "user").in_bulk({k[0] for k in due})
    campaigns = Campaign.objects.in_bulk({g[1] for _r, g in due if g[0] == "campaign"})
    for (rep_id, group), items in sorted(due.items(), key=lambda kv: min(pk for pk, _ in kv[1])):
        rep = reps[rep_id]
        what = f"campaign “{campaigns[group[1]].name}”" if group[0] == "campaign" else f"source “{group[1]}”"
        kinds = sorted({d for _pk, d in items})
        ids = sorted(pk for pk, _ in items)
        title = f"{rep.owner_name} dispositioned {len(items)} leads of {what} without a touch"
        detail = (f"{len(items)} leads ({', '.join(kinds)}) within {settings_row.cherry_pick_hours} h, none of them "
                  f"ever touched (threshold: {settings_row.cherry_pick_count}).")
        raised += _raise(kind=Alarm.Kind.CHERRY_PICKING, key=f"{rep_id}:{group[0]}:{group[1]}:{ids[0]}", rep=rep,
                         title=title, detail=detail, now=now, cycles=ids) is not None
    return raised


def sao_dark_raise(*, now: dt.datetime, settings_row: AlarmSettings) -> int:
    stage_moved = (OpportunityEvent.objects.filter(opportunity=OuterRef("pk"), kind=OpportunityEvent.Kind.STAGE)
                   .values("opportunity").annotate(m=Max("occurred_at")).values("m"))
    opps = list(Opportunity.objects.filter(is_open=True, pipeline_at__isnull=False, pipeline_at__lte=now)
                .annotate(moved=stage_moved).select_related("owner", "sourcing_sdr__team__manager__user",
                                                            "sourcing_sdr__manager__user", "owner__team__manager__user"))
    raised = 0
    for opp in opps:
        since = max(filter(None, [opp.pipeline_at, opp.moved]))
        touches = Activity.objects.filter(account_id=opp.account_id, automated=False, type__in=REAL_TOUCHES,
                                          rep_id__in=[r for r in (opp.owner_id, opp.sourcing_sdr_id) if r])
        last = touches.aggregate(last=Max("occurred_at"))["last"]
        attempts = touches.filter(occurred_at__gte=since).aggregate(
            calls=Count("id", filter=Q(type=ActivityType.CALL)), emails=Count("id", filter=Q(type=ActivityType.EMAIL)))
        quiet_since = last or since
        rep = opp.sourcing_sdr or opp.owner
        if now - quiet_since >= dt.timedelta(days=settings_row.sao_dark_days):
            why = f"no touch by its AE or SDR for {(now - quiet_since).days} days"
        elif attempts["calls"] >= settings_row.sao_dark_calls and attempts["emails"] >= settings_row.sao_dark_emails:
            why = (f"{attempts['calls']} calls and {attempts['emails']} emails since its stage last moved "
                   f"({since:%Y-%m-%d}), no progress")
        else:
            continue
        raised += _raise(kind=Alarm.Kind.SAO_DARK, key=f"{opp.pk}:{since.isoformat()}", rep=rep,
                         title=f"SAO gone dark: {opp.name}", detail=f"{opp.name} ({opp.stage}): {why}.", now=now,
                         opportunity=opp) is not None
    return raised


def iqm_pending_raise(*, now: dt.datetime, settings_row: AlarmSettings) -> int:
    cutoff = now - dt.timedelta(days=settings_row.iqm_pending_days)
    meetings = (Meeting.objects.filter(status=Meeting.Status.COMPLETED_QUALIFIED)
                .ended_between(cutoff - dt.timedelta(days=90), cutoff)
                .filter(Q(opportunity__isnull=True) | Q(opportunity__pipeline_at__isnull=True, opportunity__is_open=True))
                .exclude(Exists(Alarm.objects.filter(kind=Alarm.Kind.IQM_PENDING, meeting=OuterRef("pk"))))
                .select_related("sdr__team__manager__user", "sdr__manager__user", "contact", "opportunity"))
    raised = 0
    for meeting in meetings:
        days = (now - meeting.scheduled_end_at).days
        raised += _raise(kind=Alarm.Kind.IQM_PENDING, key=str(meeting.pk), rep=meeting.sdr,
                         title=f"IQM pending SAO: {meeting.contact}",
                         detail=f"Qualified meeting on {meeting.scheduled_at:%Y-%m-%d}, {days} days ago; its "
                                f"opportunity has not reached the pipeline stage.", now=now, meeting=meeting,
                         opportunity=meeting.opportunity) is not None
    return raised


PUSHES = Q(old_close_date__isnull=False, new_close_date__gt=F("old_close_date"))


def _repeated_changes(model, *, fk: str, kind: str, count: int, days: int, now: dt.datetime, only: Q | None = None) -> list:
    """The changes of the last `days` that make at least `count` changes of their record
    within `days` up to and including themselves, not alarmed yet (one statement)."""
    window, only = dt.timedelta(days=days), only or Q()
    in_window = (
        model.objects.filter(only, **{fk: OuterRef(fk)})
        .filter(Q(changed_at__lt=OuterRef("changed_at")) | Q(changed_at=OuterRef("changed_at"), pk__lte=OuterRef("pk")))
        .filter(changed_at__gt=OuterRef("window_start"))
        .order_by().values(fk).annotate(n=Count("pk")).values("n")
    )
    raised = Alarm.objects.filter(kind=kind, key=OuterRef("alarm_key"))
    return list(
        model.objects.filter(only, changed_at__gt=now - window, changed_at__lte=now)
        .annotate(window_start=ExpressionWrapper(F("changed_at") - window, output_field=DateTimeField()),
                  alarm_key=Concat(Cast(fk, CharField()), Value(":"), Cast("pk", CharField()), output_field=CharField()))
        .annotate(n=Subquery(in_window))
        .filter(n__gte=count).exclude(Exists(raised))
        .order_by("changed_at", "pk")
    )


def _chain(model, change, *, fk: str, days: int, only: Q | None = None) -> list:
    """The record's changes the occurrence counts (its window, up to and including it)."""
    start, only = change.changed_at - dt.timedelta(days=days), only or Q()
    return list(model.objects.filter(only, **{fk: getattr(change, fk)}, changed_at__gt=start)
                .filter(Q(changed_at__lt=change.changed_at) | Q(changed_at=change.changed_at, pk__lte=change.pk))
                .order_by("changed_at", "pk"))


def account_renamed_raise(*, now: dt.datetime, settings_row: AlarmSettings) -> int:
    days = settings_row.rename_days
    changes = _repeated_changes(AccountNameChange, fk="account_id", kind=Alarm.Kind.ACCOUNT_RENAMED,
                                count=settings_row.rename_count, days=days, now=now)
    accounts = (Account.objects.select_related("owner__team__manager__user", "owner__manager__user")
                .in_bulk({c.account_id for c in changes}))
    raised = 0
    for change in changes:
        account = accounts.get(change.account_id)  # None: deleted by raw SQL (no constraint keeps the rows in step)
        if account is None or account.owner is None:
            continue
        steps = "; ".join(f"“{c.old_name}” → “{c.new_name}” on {c.changed_at:%Y-%m-%d}"
                          for c in _chain(AccountNameChange, change, fk="account_id", days=days))
        raised += _raise(kind=Alarm.Kind.ACCOUNT_RENAMED, key=change.alarm_key, rep=account.owner,
                         title=f"Account renamed {change.n} times in {days} days: {account.name}",
                         detail=f"{steps} (dates UTC; threshold: {settings_row.rename_count} in {days} days).",
                         now=now, account=account) is not None
    return raised


def close_date_pushed_raise(*, now: dt.datetime, settings_row: AlarmSettings) -> int:
    days = settings_row.close_push_days
    changes = _repeated_changes(OpportunityCloseDateChange, fk="opportunity_id", kind=Alarm.Kind.CLOSE_DATE_PUSHED,
                                count=settings_row.close_push_count, days=days, now=now, only=PUSHES)
    opps = (Opportunity.objects.select_related("owner__team__manager__user", "owner__manager__user",
                                               "sourcing_sdr__team__manager__user", "sourcing_sdr__manager__user")
            .in_bulk({c.opportunity_id for c in changes}))
    raised = 0
    for change in changes:
        opp = opps.get(change.opportunity_id)
        rep = opp and (opp.owner or opp.sourcing_sdr)
        if rep is None:
            continue
        steps = "; ".join(f"{c.old_close_date:%Y-%m-%d} → {c.new_close_date:%Y-%m-%d} on {c.changed_at:%Y-%m-%d}"
                          for c in _chain(OpportunityCloseDateChange, change, fk="opportunity_id", days=days, only=PUSHES))
        raised += _raise(kind=Alarm.Kind.CLOSE_DATE_PUSHED, key=change.alarm_key, rep=rep,
                         title=f"Close date pushed {change.n} times in {days} days: {opp.name}",
                         detail=f"Pushed {steps} (dates UTC; threshold: {settings_row.close_push_count} in {days} days).",
                         now=now, opportunity=opp, account_id=opp.account_id) is not None
    return raised


def alarms_raise(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    row = AlarmSettings.load()
    counts = {
        Alarm.Kind.CHERRY_PICKING.value: cherry_picking_raise(now=now, settings_row=row),
        Alarm.Kind.SAO_DARK.value: sao_dark_raise(now=now, settings_row=row),
        Alarm.Kind.IQM_PENDING.value: iqm_pending_raise(now=now, settings_row=row),
        Alarm.Kind.ACCOUNT_RENAMED.value: account_renamed_raise(now=now, settings_row=row),
        Alarm.Kind.CLOSE_DATE_PUSHED.value: close_date_pushed_raise(now=now, settings_row=row),
    }
    return {k: v for k, v in counts.items() if v}


def alarm_url(alarm: Alarm) -> str:
    return mail.portal_reverse("admin:campaigns_alarm_change", alarm.pk)


def alarm_email_send(*, alarm_id: int) -> bool:
    """Mail the alarm to the manager once (`emailed_at` marks it); after commit."""
    with transaction.atomic():
        alarm = (Alarm.objects.select_for_update(of=("self",)).select_related("manager__user", "rep")
                 .filter(pk=alarm_id, emailed_at__isnull=True).first())
        if alarm is None or alarm.manager is None or not alarm.manager.user.email:
            return False
        context = {"alarm": alarm, "url": alarm_url(alarm), "manager": alarm.manager}
        # Queued in the mail outbox in this transaction: the mark and the mail commit together,
        # and the outbox retries while the mail server is down.
        if not mail.send_templated(to=[alarm.manager.user.email], template="campaigns/email/alarm", context=context):
            return False
        alarm.emailed_at = timezone.now()
        alarm.save(update_fields=["emailed_at"])
    return True


def alarms_open_for(*, user, limit: int = 20) -> list[Alarm]:
    """The manager's home: open alarms of the reps they see (ops: all)."""
    return list(alarms_visible_to(user=user).filter(acknowledged_at__isnull=True).order_by("-raised_at", "-id")[:limit])
