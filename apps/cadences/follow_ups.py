"""Follow-up tasks (issue 22 item 6): the writes (open, complete, cancel, hand over with the
account, remind) and the reads the rep's home, the lead and account pages and the API show.

Every move is FollowUpTask.TRANSITIONS applied to the locked row with a FollowUpTaskEvent in
the same transaction. Completing a task logs its activity through activity_create (the one
writer of activities), so a completed call on an assigned lead moves it to working exactly as
a call logged on the lead page does. Reminders: `follow_ups_to_remind` + `follow_up_remind`
(the cadences.follow_up_reminders job, apps.cadences.schedules), once per task."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Account, ActivityType
from apps.cadences.models import FollowUpTask, FollowUpTaskEvent
from apps.cadences.services import activity_create
from apps.leads.models import LeadCycle
from apps.people.actors import actor_scope_user, actor_user
from apps.people.models import Contact, Rep
from apps.people.timezones import rep_zone
from apps.routing.models import RulesOfEngagement
from sdrops import config_cache, mail
from sdrops.access import accounts_visible_to, contacts_for_lead_work, follow_ups_visible_to, reps_visible_to

# What completing a task can log (a note does not move a lead; the rest are real touches).
COMPLETION_TYPES = (ActivityType.CALL, ActivityType.EMAIL, ActivityType.SOCIAL, ActivityType.MEETING, ActivityType.NOTE)


def follow_ups_for(*, user, contact: Contact | None = None, account: Account | None = None, rep: Rep | None = None,
                   open_only: bool = True):
    """The tasks a page shows: on a lead, on an account (its contacts' tasks too) or held by a
    rep — within what `user` may see; open ones by due date unless `open_only` is off."""
    qs = follow_ups_visible_to(user=user)
    if contact is not None:
        qs = qs.filter(contact=contact)
    if account is not None:
        qs = qs.filter(account=account)
    if rep is not None:
        qs = qs.filter(rep=rep)
    if open_only:
        qs = qs.filter(status=FollowUpTask.Status.OPEN)
    return qs.order_by("due_at", "pk")


def _event(task: FollowUpTask, kind: str, *, actor=None, from_rep_id=None, at=None, note="") -> None:
    FollowUpTaskEvent.objects.create(task=task, kind=kind, from_rep_id=from_rep_id, to_rep_id=task.rep_id,
                                     actor=actor_user(actor), occurred_at=at or timezone.now(), note=note[:255])


def follow_up_create(*, rep: Rep, due_at: dt.datetime, title: str, contact: Contact | None = None,
                     account: Account | None = None, actor=None) -> FollowUpTask:
    """Log a follow-up for `rep` on a lead (contact) or an account. On a contact, the task also
    points at the contact's account (it moves with its owner) and at its latest lead cycle (a
    nurtured lead's "get back to me" date)."""

    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Say what to follow up on (e.g. “Call back: budget in Q3”)."})
    if contact is None and account is None:
        raise ValidationError("A follow-up is on a lead or an account.")
    user = actor_scope_user(actor)
    if user is not None:
        # The actor logs tasks for reps they see, on leads/accounts they may work.
        if not reps_visible_to(user=user).filter(pk=rep.pk).exists():
            raise PermissionDenied("You can log follow-ups only for yourself or your reps.")
        if contact is not None and not contacts_for_lead_work(user=user).filter(pk=contact.pk).exists():
            raise ValidationError({"contact": "No such lead."})
        if contact is None and not accounts_visible_to(user=user).filter(pk=account.pk).exists():
            raise ValidationError({"account": "No such account."})
    cycle = None
    if contact is not None:
        account = Account.objects.filter(pk=contact.account_id).first()
        cycle = LeadCycle.objects.filter(contact=contact).order_by("-number").first()
    with transaction.atomic():
        task = FollowUpTask.objects.create(rep=rep, contact=contact, account=account, lead_cycle=cycle, title=title[:200],
                                           due_at=due_at, created_by=actor_user(actor))
        _event(task, FollowUpTaskEvent.Kind.CREATED, actor=actor)
    return task


def _locked(task_id: int, actor) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update(no_key=True).filter(pk=task_id).first()
    user = actor_scope_user(actor)
    if task is not None and user is not None and not follow_ups_visible_to(user=user).filter(pk=task_id).exists():
        task = None
    if task is None:
        raise ValidationError("This follow-up task does not exist.")
    return task


def follow_up_complete(*, task: FollowUpTask, actor, activity_type: str = ActivityType.CALL, subject: str = "",
                       at: dt.datetime | None = None) -> FollowUpTask:
    """Done: logs the activity (on the contact, or the account) as the task's rep, then closes
    the task pointing at it — one transaction."""

    if activity_type not in COMPLETION_TYPES:
        raise ValidationError({"activity_type": "Log a call, email, social touch, meeting or note."})
    at = at or timezone.now()
    with transaction.atomic():
        locked = _locked(task.pk, actor)
        FollowUpTask.TRANSITIONS.check(locked.status, FollowUpTask.Status.DONE)
        activity = activity_create(type=activity_type, contact=locked.contact,
                                   account=None if locked.contact_id else locked.account, rep=locked.rep,
                                   occurred_at=at, subject=(subject or f"Follow-up: {locked.title}")[:255], actor=actor)
        locked.status, locked.completed_at, locked.activity = FollowUpTask.Status.DONE, at, activity
        locked.save(update_fields=["status", "completed_at", "activity"])
        _event(locked, FollowUpTaskEvent.Kind.DONE, actor=actor, at=at, note=activity.get_type_display())
    return locked


def follow_up_cancel(*, task: FollowUpTask, actor, note: str = "") -> FollowUpTask:
    with transaction.atomic():
        locked = _locked(task.pk, actor)
        FollowUpTask.TRANSITIONS.check(locked.status, FollowUpTask.Status.CANCELLED)
        locked.status = FollowUpTask.Status.CANCELLED
        locked.save(update_fields=["status"])
        _event(locked, FollowUpTaskEvent.Kind.CANCELLED, actor=actor, note=note)
    return locked


def _follow_ups_move_with_account() -> bool:
    return RulesOfEngagement.load().follow_ups_move_with_account


def follow_ups_follow_owner(*, events) -> int:
    """Receiver of apps.accounts.events.owners_changed (inside the ownership transaction): each
    account's open tasks held by its previous owner move to the new owner, unless the rules of
    engagement keep them with the rep (`follow_ups_move_with_account` off). An account sent to
    the pool keeps its tasks with the rep: nobody else would see them. Returns tasks moved."""

    moves = [(e.account_id, e.from_rep_id, e.to_rep_id) for e in events
             if e.from_rep_id and e.to_rep_id and e.from_rep_id != e.to_rep_id]
    if not moves or not config_cache.cached("routing.follow_ups_move_with_account", _follow_ups_move_with_account):
        return 0
    tasks, events_table = FollowUpTask._meta.db_table, FollowUpTaskEvent._meta.db_table
    account_ids, from_ids, to_ids = (list(column) for column in zip(*moves, strict=True))
    with connection.cursor() as cursor:
        # One statement for every account of the batch: lock the tasks (ascending pk), move
        # them, and write each one's MOVED event from what the UPDATE returns.
        cursor.execute(
            f"""
            WITH move AS (
                SELECT * FROM unnest(%(accounts)s::bigint[], %(froms)s::bigint[], %(tos)s::bigint[])
                    AS v(account_id, from_rep_id, to_rep_id)
            ), locked AS (
                SELECT t.id, move.from_rep_id, move.to_rep_id FROM {tasks} t
                  JOIN move ON move.account_id = t.account_id AND move.from_rep_id = t.rep_id
                 WHERE t.status = %(open)s ORDER BY t.id FOR NO KEY UPDATE OF t
            ), moved AS (
                UPDATE {tasks} t SET rep_id = locked.to_rep_id FROM locked WHERE t.id = locked.id
                RETURNING t.id, locked.from_rep_id, locked.to_rep_id
            )
            INSERT INTO {events_table} (task_id, kind, from_rep_id, to_rep_id, actor_id, occurred_at, note)
            SELECT id, %(kind)s, from_rep_id, to_rep_id, NULL, %(now)s, %(note)s FROM moved ORDER BY id
            """,  # noqa: S608 (table names from the models, values as parameters)
            {"accounts": account_ids, "froms": from_ids, "tos": to_ids, "open": FollowUpTask.Status.OPEN,
             "kind": FollowUpTaskEvent.Kind.MOVED, "now": timezone.now(), "note": "account changed owner"},
        )
        return cursor.rowcount


def follow_ups_to_remind(*, now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(FollowUpTask.objects.filter(status=FollowUpTask.Status.OPEN, reminded_at__isnull=True, due_at__lte=now)
                .order_by("due_at", "pk").values_list("pk", flat=True))


def follow_up_remind(*, task_id: int, now: dt.datetime | None = None) -> bool:
    """Mail the rep that a task is due, once: the marker is set in the transaction that queues
    the mail (sent after commit); a task locked by a concurrent run, done, or reminded is skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        task = (FollowUpTask.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
                .select_related("rep__user", "contact", "account").filter(pk=task_id).first())
        if task is None or task.status != FollowUpTask.Status.OPEN or task.reminded_at is not None or task.due_at > now:
            return False
        task.reminded_at = now
        task.save(update_fields=["reminded_at"])
        _event(task, FollowUpTaskEvent.Kind.REMINDED, at=now)
        mail.send_after_commit(to=[task.rep.user.email], template="cadences/email/follow_up_due",
                               context=follow_up_mail_context(task))
    return True


def follow_up_mail_context(task: FollowUpTask) -> dict:


    if task.contact_id:
        link = mail.portal_url(reverse("admin:cadences_lead_page", args=[task.contact_id]))
    else:
        link = mail.portal_url(reverse("admin:accounts_account_change", args=[task.account_id]))
    return {"task": task, "link": link, "tz": rep_zone(task.rep), "home": mail.portal_url(reverse("admin:index"))}
