"""Chat alerts to Slack and Microsoft Teams incoming webhooks, through the webhook outbox.

An alert is built once (title, text, facts, a link) and rendered in each channel's format:
Slack Block Kit (`text` fallback + `blocks`) or a Teams message carrying an Adaptive Card.
The rendered body is written as an OutboxEvent for the channel's own endpoint, inside the
transaction of the change it reports, so the existing outbox delivers it after commit,
retries it with back-off, dead-letters it and refuses private addresses unless ops allowed
them for that channel.

Who gets what:
- SLA escalation (a lead past its maximum response time): channels of the breached rep's
  team, and the person channels of that team's manager (the one the email escalates to).
- Meeting-disposition escalation: channels of the AE's team and of the sales manager
  escalated to.
- Morning summary (the manager's "clean your room" digest, with the pull alarms that flag
  cherry-picking): the manager's person channels and their team's channels.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from apps.connect.models import ChatChannel
from apps.integrations.models import EventType, OutboxEvent, WebhookEndpoint
from apps.integrations.outbox import outbox_enqueue, url_problem
from apps.leads import events as lead_events
from apps.meetings import events as meeting_events
from apps.people.models import Rep, Team

logger = logging.getLogger(__name__)


def portal_url(path: str) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "") or "http://localhost:8000"
    return base.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class Alert:
    kind: str
    title: str
    text: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    link_label: str = "Open in sdrops"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict:
    """Block Kit for an incoming webhook: `text` is the notification fallback."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(alert.text)[:3000]}},
    ]
    if alert.facts:
        blocks.append({
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{_slack_escape(k)}*\n{_slack_escape(v)}"[:2000]}
                       for k, v in alert.facts[:10]],
        })
    if alert.link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": alert.link_label}, "url": alert.link},
        ]})
    return {"text": f"{alert.title}: {alert.text}"[:3000], "blocks": blocks}


def teams_payload(alert: Alert) -> dict:
    """A Teams message with one Adaptive Card (what incoming webhooks and Workflows accept)."""
    body: list[dict] = [
        {"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": alert.text, "wrap": True},
    ]
    if alert.facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in alert.facts]})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if alert.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": alert.link_label, "url": alert.link}]
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                         "content": card}],
    }


def render(alert: Alert, kind: str) -> dict:
    return slack_payload(alert) if kind == ChatChannel.Kind.SLACK else teams_payload(alert)


def channels_for(*, alert_kind: str, team_ids=(), rep_ids=()) -> list[ChatChannel]:
    team_ids = [t for t in team_ids if t]
    rep_ids = [r for r in rep_ids if r]
    if not team_ids and not rep_ids:
        return []
    return list(
        ChatChannel.objects.filter(active=True, endpoint__active=True, alerts__contains=[alert_kind])
        .filter(Q(team_id__in=team_ids) | Q(rep_id__in=rep_ids))
        .order_by("pk")
    )


def chat_alert_write(*, alert: Alert, channels: list[ChatChannel], occurred_at: dt.datetime | None = None) -> list[OutboxEvent]:
    """Queue `alert` for each channel in the webhook outbox (inside the caller's transaction)."""
    if not channels:
        return []
    occurred_at = occurred_at or timezone.now()
    rows = [
        OutboxEvent(
            event_id=uuid.uuid4(), endpoint_id=channel.endpoint_id, type=EventType.CHAT_ALERT,
            payload=render(alert, channel.kind), next_attempt_at=occurred_at,
        )
        for channel in channels
    ]
    created = OutboxEvent.objects.bulk_create(rows)
    ids = [row.pk for row in created]

    def enqueue():
        outbox_enqueue(event_pks=ids)

    transaction.on_commit(enqueue)
    return created


def _team_manager_id(team_id: int | None) -> int | None:
    if team_id is None:
        return None
    return Team.objects.filter(pk=team_id).values_list("manager_id", flat=True).first()


# --- the alerts ----------------------------------------------------------------------------


@receiver(lead_events.lead_changed, dispatch_uid="connect-chat-lead-changed")
def on_lead_change(sender, *, event_type: str, build_data, occurred_at: dt.datetime, **kwargs) -> None:
    """apps.leads' `lead_changed` signal (in the change's transaction): an SLA breach past the
    maximum is an escalation."""
    if event_type != EventType.SLA_BREACHED:
        return
    # Cheap check first: nobody subscribed → no data built.
    if not ChatChannel.objects.filter(active=True, alerts__contains=[ChatChannel.Alert.SLA_ESCALATION]).exists():
        return
    data = build_data()
    breach = data["breach"]
    if breach["kind"] != "maximum":
        return
    breached = breach.get("breached_rep") or {}
    breached_rep_id = breached.get("id")
    team_id = Rep.objects.filter(pk=breached_rep_id).values_list("team_id", flat=True).first()
    manager_id = _team_manager_id(team_id) or Rep.objects.filter(pk=breached_rep_id).values_list(
        "manager_id", flat=True).first()
    reassigned = (breach.get("reassigned_to") or {}).get("owner_name")
    contact = data["contact"]
    account = data.get("account") or {}
    alert = Alert(
        kind=ChatChannel.Alert.SLA_ESCALATION,
        title=f"SLA escalation: {contact['name'] or contact['email']}",
        text=(f"{breached.get('owner_name', 'The rep')} did not touch this lead within its maximum response time. "
              + (f"It was re-assigned to {reassigned}." if reassigned else "Nobody was available to take it over.")),
        facts=[("Lead", contact["email"]), ("Account", account.get("name", "—")),
               ("Was due", breach["due_at"] or "—"), ("Rep", breached.get("owner_name", "—")),
               ("Re-assigned to", reassigned or "—")],
        link=portal_url(reverse("admin:cadences_lead_page", args=[contact["id"]])),
        link_label="Open the lead",
    )
    chat_alert_write(alert=alert, channels=channels_for(alert_kind=alert.kind, team_ids=[team_id],
                                                         rep_ids=[manager_id]), occurred_at=occurred_at)


@receiver(meeting_events.meeting_escalated, dispatch_uid="connect-chat-meeting-escalated")
def _on_meeting_escalated(sender, meeting, manager, **kwargs):
    channels = channels_for(alert_kind=ChatChannel.Alert.MEETING_ESCALATION, team_ids=[meeting.ae.team_id],
                            rep_ids=[manager.pk if manager else None])
    if not channels:
        return
    alert = Alert(
        kind=ChatChannel.Alert.MEETING_ESCALATION,
        title=f"Overdue meeting disposition: {meeting.ae}",
        text=(f"{meeting.ae} has not dispositioned the {meeting.get_kind_display().lower()} with {meeting.contact} "
              f"at {meeting.account} (booked by {meeting.sdr})."),
        facts=[("Scheduled", f"{meeting.scheduled_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"),
               ("Due by", f"{meeting.disposition_due_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"),
               ("AE", str(meeting.ae)), ("SDR", str(meeting.sdr))],
        link=portal_url(reverse("admin:meetings_meeting_disposition", args=[meeting.pk])),
        link_label="Disposition it",
    )
    chat_alert_write(alert=alert, channels=channels)


@receiver(lead_events.morning_summary, dispatch_uid="connect-chat-morning-summary")
def _on_morning_summary(sender, digest, **kwargs):
    manager = digest.manager
    team_ids = list(Team.objects.filter(manager=manager).values_list("pk", flat=True))
    channels = channels_for(alert_kind=ChatChannel.Alert.MORNING_SUMMARY, team_ids=team_ids, rep_ids=[manager.pk])
    if not channels:
        return
    meetings = digest.meetings_without_disposition or []
    lines = [
        f"{len(digest.outside_sla)} lead(s) outside SLA, {len(digest.untouched)} untouched, "
        f"{len(meetings)} meeting(s) without disposition, {len(digest.overdue_steps)} overdue cadence step(s)."
    ]
    for alarm in digest.pull_alerts:
        lines.append(f"Pull alarm: {alarm.rep} took {alarm.pulled} lead(s) (expected {alarm.minimum}–{alarm.maximum}).")
    facts = [(f"Outside SLA: {c.contact}", str(c.rep or "—")) for c in digest.outside_sla[:8]]
    alert = Alert(
        kind=ChatChannel.Alert.MORNING_SUMMARY,
        title=f"Clean your room · {manager} · {digest.local_date:%a %d %b}",
        text="\n".join(lines), facts=facts,
        link=portal_url(reverse("admin:cadences_today")), link_label="Open today's list",
    )
    chat_alert_write(alert=alert, channels=channels)


# --- channels --------------------------------------------------------------------------------


def chat_channel_save(*, channel: ChatChannel, url: str | None, allow_private_network: bool) -> ChatChannel:
    """Create or update a channel with its endpoint. `url` None keeps the stored one (the
    admin never shows it again). Refuses URLs the webhook rules refuse."""
    if url:
        problem = url_problem(url, allow_private_network=allow_private_network)
        if problem:
            raise ValidationError({"url": problem})
    elif channel.endpoint_id is None:
        raise ValidationError({"url": "Give the channel's incoming-webhook URL."})
    with transaction.atomic():
        if channel.endpoint_id is None:
            endpoint = WebhookEndpoint(name=f"chat: {channel.name}"[:100], event_types=[],
                                       allow_private_network=allow_private_network, active=channel.active)
            endpoint.secret_url_set(url)
            endpoint.save()
            channel.endpoint = endpoint
        else:
            endpoint = WebhookEndpoint.objects.select_for_update().get(pk=channel.endpoint_id)
            if url:
                endpoint.secret_url_set(url)
            elif not allow_private_network:
                problem = url_problem(endpoint.url, allow_private_network=False)
                if problem:
                    raise ValidationError({"allow_private_network": problem})
            endpoint.name = f"chat: {channel.name}"[:100]
            endpoint.allow_private_network = allow_private_network
            endpoint.active = channel.active
            endpoint.event_types = []
            endpoint.save()
            channel.endpoint = endpoint
        channel.full_clean()
        channel.save()
    return channel
