"""Chat alerts end to end: real alerts (SLA escalation, meeting-disposition escalation, the
morning summary) go through the webhook outbox to a receiver on 127.0.0.1 that checks the
payload shape the way Slack and Teams do (a wrong shape gets 400, so the event would not be
delivered). The SSRF guard refuses loopback unless the channel allows private networks —
as the webhook delivery tests do, these channels allow it to reach the local receiver."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.connect.chat import Alert, chat_alert_write, chat_channel_save
from apps.connect.models import ChatChannel
from apps.integrations.models import OutboxEvent
from apps.integrations.tasks import sweep_outbox
from apps.leads.services import lead_cycle_open
from apps.meetings.services import meeting_book
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def slack_problems(body: dict) -> list[str]:
    problems = []
    if not isinstance(body.get("text"), str) or not body["text"]:
        problems.append("text fallback missing")
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return problems + ["no blocks"]
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            if block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > 150:
                problems.append("bad header")
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append("empty section")
            for item in block.get("fields", []):
                if item["type"] not in ("mrkdwn", "plain_text"):
                    problems.append("bad field")
        elif kind == "actions":
            for element in block["elements"]:
                if element["type"] != "button" or not element["url"].startswith("http"):
                    problems.append("bad button")
        else:
            problems.append(f"unknown block {kind}")
    return problems


def teams_problems(body: dict) -> list[str]:
    if body.get("type") != "message" or not isinstance(body.get("attachments"), list):
        return ["not a Teams message"]
    [attachment] = body["attachments"]
    card = attachment.get("content") or {}
    problems = []
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        problems.append("not an adaptive card")
    if card.get("type") != "AdaptiveCard" or not card.get("version") or not card.get("body"):
        problems.append("bad card")
    for element in card.get("body", []):
        if element["type"] not in ("TextBlock", "FactSet"):
            problems.append(f"unknown element {element['type']}")
    for action in card.get("actions", []):
        if action["type"] != "Action.OpenUrl" or not action["url"].startswith("http"):
            problems.append("bad action")
    return problems


class ChatReceiver:
    """Answers like an incoming webhook: 200 "ok" for a well-formed payload, 400 otherwise;
    `fail` makes it answer 500 (the chat service is down)."""

    def __init__(self):
        self.received: list[dict] = []
        self.fail = False
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                kind = "slack" if self.path.startswith("/slack") else "teams"
                problems = slack_problems(body) if kind == "slack" else teams_problems(body)
                receiver.received.append({"kind": kind, "path": self.path, "body": body, "problems": problems,
                                          "content_type": self.headers.get("Content-Type")})
                code = 500 if receiver.fail else (400 if problems else 200)
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"invalid_payload")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def chat():
    receiver = ChatReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def fast_webhooks(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_MAX_ATTEMPTS = 3


def channel(chat, name, kind, *, team=None, rep=None, alerts=None, path=None):
    return chat_channel_save(
        channel=ChatChannel(name=name, kind=kind, team=team, rep=rep, alerts=alerts or [a.value for a in ChatChannel.Alert]),
        url=chat.url(path or f"/{kind}/{name}"), allow_private_network=True,
    )


def test_sla_escalation_reaches_the_team_slack_and_the_managers_teams(
    chat, sdr, manager, team, other_team, run_task
):
    team_slack = channel(chat, "east-sdrs", "slack", team=team)
    manager_teams = channel(chat, "mona-dm", "teams", rep=manager)
    channel(chat, "west-sdrs", "slack", team=other_team)  # another team's: nothing for it
    channel(chat, "east-meetings-only", "slack", team=team, alerts=["meeting_escalation"])
    contact = ContactFactory(first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
    with time_machine.travel(T0, tick=False):
        lead_cycle_open(contact=contact, rep=sdr)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        run_task("apps.leads.tasks.lead_sla_check")  # past target: a reminder, no chat alert
    assert chat.received == []
    with time_machine.travel(T0 + dt.timedelta(hours=24), tick=False):
        assert run_task("apps.leads.tasks.lead_sla_check") == {"escalated": 1}
    assert sorted(r["path"] for r in chat.received) == ["/slack/east-sdrs", "/teams/mona-dm"]
    assert all(r["problems"] == [] and r["content_type"] == "application/json" for r in chat.received)
    slack = next(r["body"] for r in chat.received if r["kind"] == "slack")
    assert slack["blocks"][0]["text"]["text"] == "SLA escalation: Peter Gibbons"
    assert "Sam Seller did not touch this lead" in slack["blocks"][1]["text"]["text"]
    assert slack["blocks"][-1]["elements"][0]["url"].endswith(
        reverse("admin:cadences_lead_page", args=[contact.pk]))
    teams = next(r["body"] for r in chat.received if r["kind"] == "teams")
    card = teams["attachments"][0]["content"]
    assert card["body"][0]["text"] == "SLA escalation: Peter Gibbons"
    assert {"title": "Lead", "value": "peter@initech.com"} in card["body"][2]["facts"]
    events = OutboxEvent.objects.filter(type="chat.alert")
    assert events.count() == 2 and set(events.values_list("status", flat=True)) == {"delivered"}
    assert set(events.values_list("endpoint_id", flat=True)) == {team_slack.endpoint_id, manager_teams.endpoint_id}


def test_meeting_escalation_goes_to_the_aes_team_and_the_sales_manager(
    chat, sdr, ae, manager, team, run_task, django_capture_on_commit_callbacks
):
    channel(chat, "east", "slack", team=team, alerts=["meeting_escalation"])
    channel(chat, "mona", "teams", rep=manager, alerts=["meeting_escalation"])
    sdr.ae_partners.add(ae)
    contact = ContactFactory(first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
    start = (timezone.now() + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(minutes=1), tick=False):
        run_task("apps.meetings.tasks.escalate_overdue_meetings")
        run_task("apps.meetings.tasks.escalate_overdue_meetings")  # once only
    assert sorted(r["path"] for r in chat.received) == ["/slack/east", "/teams/mona"]
    assert all(r["problems"] == [] for r in chat.received)
    slack = next(r["body"] for r in chat.received if r["kind"] == "slack")
    assert slack["blocks"][0]["text"]["text"] == "Overdue meeting disposition: Abe Closer"
    assert slack["blocks"][-1]["elements"][0]["url"].endswith(
        reverse("admin:meetings_meeting_disposition", args=[meeting.pk]))


def test_morning_summary_to_the_managers_channel(chat, sdr, manager, team, run_task):
    manager.time_zone = "UTC"
    manager.save()
    channel(chat, "mona-summary", "slack", rep=manager, alerts=["morning_summary"])
    with time_machine.travel(T0 - dt.timedelta(days=1), tick=False):
        lead_cycle_open(contact=ContactFactory(email="late@acme.com"), rep=sdr)
    from apps.leads.models import LifecycleSettings

    hour = LifecycleSettings.load().morning_email_hour
    with time_machine.travel(dt.datetime(2026, 3, 2, hour, 5, tzinfo=dt.UTC), tick=False):
        assert run_task("apps.leads.tasks.lead_morning_emails") == 1
        assert run_task("apps.leads.tasks.lead_morning_emails") == 0
    [received] = chat.received
    assert received["problems"] == []
    assert received["body"]["blocks"][0]["text"]["text"].startswith("Clean your room · Mona Manager")
    assert "1 lead(s) outside SLA" in received["body"]["blocks"][1]["text"]["text"]


def test_a_down_chat_service_is_retried_then_dead_lettered(chat, sdr, team):
    slack = channel(chat, "east", "slack", team=team)
    chat.fail = True
    start = timezone.now()
    with time_machine.travel(start, tick=True) as traveller:
        [event] = chat_alert_write(alert=Alert(kind="sla_escalation", title="T", text="x"), channels=[slack])
        from apps.integrations.outbox import outbox_event_deliver

        outbox_event_deliver(event_pk=event.pk)
        event.refresh_from_db()
        assert (event.status, event.attempts, event.last_error) == ("pending", 1, "HTTP 500")
        traveller.shift(dt.timedelta(seconds=31))
        assert sweep_outbox() == 1
        traveller.shift(dt.timedelta(seconds=61))
        assert sweep_outbox() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("dead", 3)
    assert len(chat.received) == 3 and all(r["problems"] == [] for r in chat.received)


def test_a_url_encrypted_under_a_lost_key_is_not_sent_and_says_so(chat, team, settings):
    from cryptography.fernet import Fernet

    from apps.integrations.outbox import outbox_event_deliver

    slack = channel(chat, "east", "slack", team=team)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # SECRET_KEY's derived key is gone
    [event] = chat_alert_write(alert=Alert(kind="sla_escalation", title="T", text="x"), channels=[slack])
    outbox_event_deliver(event_pk=event.pk)
    event.refresh_from_db()
    assert event.status == "pending" and "cannot be decrypted" in event.last_error and chat.received == []


def test_ssrf_rules_as_for_webhooks(chat, team, ops, client):
    # Loopback is refused when the channel does not allow private networks, at save time…
    with pytest.raises(Exception, match="loopback/private"):
        chat_channel_save(channel=ChatChannel(name="x", kind="slack", team=team, alerts=["sla_escalation"]),
                          url=chat.url("/slack/x"), allow_private_network=False)
    client.force_login(ops.user)
    response = client.post(reverse("admin:connect_chatchannel_add"), {
        "name": "y", "kind": "slack", "team": team.pk, "alerts": ["sla_escalation"], "active": "on",
        "url": "http://10.0.0.7/hook",
    })
    assert response.status_code == 200 and "loopback/private address" in response.content.decode()
    assert not ChatChannel.objects.exists()
    # …and at delivery, if a saved channel's endpoint is later turned back to public-only.
    slack = channel(chat, "east", "slack", team=team)
    slack.endpoint.allow_private_network = False
    slack.endpoint.save()
    [event] = chat_alert_write(alert=Alert(kind="sla_escalation", title="T", text="x"), channels=[slack])
    from apps.integrations.outbox import outbox_event_deliver

    outbox_event_deliver(event_pk=event.pk)
    event.refresh_from_db()
    assert "loopback/private" in event.last_error and chat.received == []


def test_admin_never_shows_the_webhook_url_again(chat, team, ops, client):
    client.force_login(ops.user)
    response = client.post(reverse("admin:connect_chatchannel_add"), {
        "name": "east", "kind": "teams", "team": team.pk, "alerts": ["morning_summary"], "active": "on",
        "url": chat.url("/teams/secret-path-123"), "allow_private_network": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = ChatChannel.objects.get()
    endpoint = saved.endpoint
    # Stored encrypted: the row holds the host and a Fernet token, never the path.
    assert endpoint.target_url() == chat.url("/teams/secret-path-123") and endpoint.event_types == []
    assert endpoint.url == chat.url("/") and endpoint.url_encrypted.startswith("fernet:")
    assert "secret-path-123" not in endpoint.url_encrypted
    pages = [
        client.get(reverse("admin:connect_chatchannel_change", args=[saved.pk])),
        client.get(reverse("admin:connect_chatchannel_changelist")),
        client.get(reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk])),
        client.get(reverse("admin:integrations_webhookendpoint_changelist")),
    ]
    assert [page.status_code for page in pages] == [200] * 4
    for page in pages:
        assert "secret-path-123" not in page.content.decode()
    assert "secret, kept encrypted" in pages[2].content.decode()
    # Saving the endpoint in the webhook admin keeps the secret URL (it has no URL field there).
    response = client.post(reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]), {
        "name": endpoint.name, "event_types": ["chat.alert"], "active": "on", "allow_private_network": "on",
        "secret": endpoint.secret,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert endpoint.target_url() == chat.url("/teams/secret-path-123")
    # Saving without a URL keeps the stored one.
    response = client.post(reverse("admin:connect_chatchannel_change", args=[saved.pk]), {
        "name": "east", "kind": "teams", "team": team.pk, "alerts": ["morning_summary", "sla_escalation"],
        "active": "on", "url": "", "allow_private_network": "on",
    })
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.endpoint.target_url().endswith("/teams/secret-path-123") and "sla_escalation" in saved.alerts
