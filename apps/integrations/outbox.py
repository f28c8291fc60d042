"""Outbound webhooks: the outbox written with each change, and its delivery.

Events are rows written in the transaction of the change (`outbox_write_owner_changes` runs
inside `account_owners_set`), so a notification exists exactly when the change committed.
Delivery is at least once: a task per event after commit, plus a sweep every minute for
retries (exponential back-off) and anything a lost task left behind; after
WEBHOOK_MAX_ATTEMPTS failures the event is a dead letter until ops redelivers it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account, OwnershipEvent, OwnershipReason
from apps.integrations import events
from apps.integrations.models import DeliveryAttempt, EventType, OutboxEvent, WebhookEndpoint
from apps.integrations.signing import LEGACY_HEADER, legacy_accepted, legacy_sign, standard_headers
from apps.meetings.models import Meeting
from apps.people.models import Rep
from sdrops.secrets import SecretUnreadable

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = LEGACY_HEADER  # the deprecated body-only signature, sent until its sunset
# More events than this in one commit are left to one sweep task instead of a task each,
# so a distribution of 10,000 accounts does not queue 10,000 tasks.
PER_EVENT_TASK_LIMIT = 50
SWEEP_BATCH = 500
# Events leased per claim: one commit for the claim and one for the outcomes of the batch.
SWEEP_CLAIM_BATCH = 25
SWEEP_TIME_BUDGET_SECONDS = 240


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: 30 s, 1 min, 2 min, … capped at 6 h."""
    base = float(getattr(settings, "WEBHOOK_BACKOFF_BASE_SECONDS", 30))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def sign(secret: str, body: bytes) -> str:
    """The deprecated X-Sdrops-Signature value (see apps/integrations/signing.py)."""
    return legacy_sign(secret, body)


# --- writing -------------------------------------------------------------------------------


def _owner_event_type(event: OwnershipEvent) -> str:
    if event.to_rep_id is not None:
        return EventType.ACCOUNT_ASSIGNED
    if event.reason == OwnershipReason.RETRIEVAL:
        return EventType.ACCOUNT_RETRIEVED
    return EventType.ACCOUNT_UNASSIGNED


def _rep_json(rep: Rep | None) -> dict | None:
    if rep is None:
        return None
    return {"id": rep.pk, "owner_name": rep.owner_name, "email": rep.user.email, "role": rep.role}


def outbox_write_owner_changes(events: Sequence[OwnershipEvent]) -> list[OutboxEvent]:
    """Write one outbox row per subscribed active endpoint for each ownership event.
    Runs inside the ownership transaction; one query when nobody is subscribed."""
    if not events:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(active=True).only("pk", "event_types"))
    if not endpoints:
        return []
    typed = [(event, _owner_event_type(event)) for event in events]
    wanted = {t for _, t in typed}
    endpoints = [e for e in endpoints if wanted & set(e.event_types)]
    if not endpoints:
        return []
    accounts = {
        a.pk: a
        for a in Account.objects.filter(pk__in={e.account_id for e in events}).only("pk", "name", "domain", "segment")
    }
    rep_ids = {e.from_rep_id for e in events} | {e.to_rep_id for e in events}
    reps = {r.pk: r for r in Rep.objects.filter(pk__in=rep_ids - {None}).select_related("user")}
    rows = []
    for event, event_type in typed:
        account = accounts[event.account_id]
        data = {
            "account": {"id": account.pk, "name": account.name, "domain": account.domain, "segment": account.segment},
            "from_rep": _rep_json(reps.get(event.from_rep_id)),
            "to_rep": _rep_json(reps.get(event.to_rep_id)),
            "reason": event.reason,
            "ownership_event_id": event.pk,
        }
        for endpoint in endpoints:
            if event_type not in endpoint.event_types:
                continue
            event_id = uuid.uuid4()
            rows.append(
                OutboxEvent(
                    event_id=event_id,
                    endpoint_id=endpoint.pk,
                    type=event_type,
                    payload={
                        "event_id": str(event_id),
                        "type": event_type,
                        "occurred_at": event.occurred_at.isoformat(),
                        "data": data,
                    },
                    next_attempt_at=event.occurred_at,
                )
            )
    created = OutboxEvent.objects.bulk_create(rows, batch_size=2000)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: outbox_enqueue(event_pks=ids))
    return created


def outbox_write(*, event_type: str, build_data: Callable[[], dict], occurred_at: dt.datetime) -> list[OutboxEvent]:
    """Write one outbox row per active endpoint subscribed to `event_type`. Call inside the
    transaction of the change. `build_data` runs only when someone is subscribed, so a
    change nobody listens to costs one query."""
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(active=True, event_types__contains=[event_type]).values_list("pk", flat=True)
    )
    if not endpoint_ids:
        return []
    data = build_data()
    # apps.connect adds the CRM's external ids (contact.crm_id, meeting.opportunity_crm_id)
    # so the CRM can update its own records.
    events.outbound_event_data.send(sender=OutboxEvent, data=data)
    rows = []
    for endpoint_id in endpoint_ids:
        event_id = uuid.uuid4()
        rows.append(
            OutboxEvent(
                event_id=event_id, endpoint_id=endpoint_id, type=event_type,
                payload={"event_id": str(event_id), "type": event_type, "occurred_at": occurred_at.isoformat(),
                         "data": data},
                next_attempt_at=occurred_at,
            )
        )
    created = OutboxEvent.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: outbox_enqueue(event_pks=ids))
    return created


def outbox_enqueue(*, event_pks: list[int]) -> None:
    from django_q.tasks import async_task

    if len(event_pks) > PER_EVENT_TASK_LIMIT:
        async_task("apps.integrations.tasks.sweep_outbox", task_name="outbox sweep")
        return
    for pk in event_pks:
        async_task("apps.integrations.tasks.deliver_outbox_event", pk, task_name=f"outbox event {pk}")


# --- delivering ----------------------------------------------------------------------------


class RefusedAddress(OSError):
    """The URL resolves to an address webhooks may not reach."""


def address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, *, allow_private_network: bool) -> str | None:
    """What is wrong with a webhook URL before any lookup (scheme, host, literal IPs)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "Webhook URLs must start with http:// or https://."
    if not parts.hostname:
        return "The webhook URL has no host."
    if allow_private_network:
        return None
    host = parts.hostname.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost is a private address; ops must allow private networks for this endpoint."
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        # The shorthand IPv4 forms the resolver accepts (127.1, 2130706433, 0x7f000001,
        # 0177.0.0.1) are refused when saved too, not only when a delivery connects.
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if address_refused(ip):
        return f"{ip} is a loopback/private address; ops must allow private networks for this endpoint."
    return None


def _guarded_connector(allow_private_network: bool):
    """socket.create_connection that checks every address the host resolves to and then
    connects to a checked one, so DNS cannot swap in a private address afterwards."""

    def connect(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *args, **kwargs):
        host, port = address
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not infos:
            raise RefusedAddress(f"{host} does not resolve.")
        for info in infos:
            ip = ipaddress.ip_address(info[4][0])
            if not allow_private_network and address_refused(ip):
                raise RefusedAddress(f"{host} resolves to {ip}, a loopback/private address.")
        return socket.create_connection((infos[0][4][0], port), timeout, source_address)

    return connect


def _post(endpoint: WebhookEndpoint, event: OutboxEvent) -> tuple[int | None, str]:
    """POST the event; returns (status code or None, error text or '')."""
    try:
        url = endpoint.target_url()
    except SecretUnreadable as error:
        return None, str(error)
    problem = url_problem(url, allow_private_network=endpoint.allow_private_network)
    if problem:
        return None, problem
    body = json.dumps(event.payload, sort_keys=True, separators=(",", ":")).encode()
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout_seconds())
    connection._create_connection = _guarded_connector(endpoint.allow_private_network)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sdrops-webhooks/1",
        "X-Sdrops-Event": event.type,
        "X-Sdrops-Event-Id": str(event.event_id),
        "X-Sdrops-Delivery-Attempt": str(event.attempts),
        # Standard Webhooks: webhook-id is the event id (stable across retries), the timestamp
        # is this attempt's, so a receiver's 5-minute window accepts retries and refuses replays.
        **standard_headers(secret=endpoint.secret, msg_id=str(event.event_id), body=body),
    }
    if legacy_accepted():
        headers[SIGNATURE_HEADER] = sign(endpoint.secret, body)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"[:2000]
    finally:
        connection.close()
    if 200 <= status < 300:
        return status, ""
    if 300 <= status < 400:
        return status, f"HTTP {status}: redirects are not followed."
    return status, f"HTTP {status}"


def _claim(*, pks: list[int] | None = None, limit: int = 1) -> list[OutboxEvent]:
    """Take due pending events (given ones, or the oldest due) and lease them: their
    next attempt moves past the time this batch can take, so another worker or the next
    sweep leaves them alone while they are being sent, and picks them up if this worker
    dies."""
    now = timezone.now()
    with transaction.atomic():
        qs = OutboxEvent.objects.select_for_update(skip_locked=True).filter(
            status=OutboxEvent.Status.PENDING, next_attempt_at__lte=now
        )
        if pks is not None:
            qs = qs.filter(pk__in=pks)
        events = list(qs.order_by("next_attempt_at", "pk")[:limit])
        if not events:
            return []
        lease_until = now + dt.timedelta(seconds=timeout_seconds() * (len(events) + 2) + 30)
        for event in events:
            event.attempts += 1
            event.next_attempt_at = lease_until
        OutboxEvent.objects.bulk_update(events, ["attempts", "next_attempt_at"])
    return events


def _send_and_record(events: list[OutboxEvent]) -> None:
    """POST each claimed event, then record every outcome in one transaction."""
    endpoints = WebhookEndpoint.objects.in_bulk({event.endpoint_id for event in events})
    attempts = []
    for event in events:
        endpoint = endpoints[event.endpoint_id]
        started = time.monotonic()
        if endpoint.active:
            status_code, error = _post(endpoint, event)
        else:
            status_code, error = None, "The endpoint is inactive."
        finished = timezone.now()
        attempts.append(
            DeliveryAttempt(
                event=event, attempted_at=finished, status_code=status_code, error=error,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        )
        if not error:
            outbox_event_transition(event=event, to_status=OutboxEvent.Status.DELIVERED, at=finished)
        elif event.attempts >= max_attempts() or not endpoint.active:
            outbox_event_transition(event=event, to_status=OutboxEvent.Status.DEAD, at=finished, error=error)
            logger.warning("Webhook event %s is a dead letter after %s attempts: %s", event.event_id, event.attempts, error)
        else:
            event.next_attempt_at = finished + backoff(event.attempts)
            event.last_error = error
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)
        OutboxEvent.objects.bulk_update(events, ["status", "delivered_at", "last_error", "next_attempt_at"])


def outbox_event_transition(*, event: OutboxEvent, to_status: str, at: dt.datetime, error: str = "") -> OutboxEvent:
    """The one way an event's status changes, on the claimed (leased) copy: refuses a move
    OutboxEvent.TRANSITIONS does not allow (IllegalTransition) before anything changes. The
    caller saves the events in bulk in the same transaction as their audit rows (a
    DeliveryAttempt per attempt; a redelivery keeps the event id)."""
    OutboxEvent.TRANSITIONS.check(event.status, to_status)
    event.status = to_status
    if to_status == OutboxEvent.Status.DELIVERED:
        event.delivered_at, event.last_error = at, ""
    elif to_status == OutboxEvent.Status.DEAD:
        event.last_error = error
    else:  # back in the queue with a fresh attempt count
        event.attempts, event.next_attempt_at, event.delivered_at, event.last_error = 0, at, None, ""
    return event


def outbox_event_deliver(*, event_pk: int) -> OutboxEvent | None:
    """Try to deliver one due, pending event. Returns it, or None when there is nothing
    to do (already delivered, dead, not yet due, or another worker holds it)."""
    events = _claim(pks=[event_pk])
    if not events:
        return None
    _send_and_record(events)
    return events[0]


def outbox_sweep(
    *, limit: int = SWEEP_BATCH, batch_size: int = SWEEP_CLAIM_BATCH,
    time_budget_seconds: float = SWEEP_TIME_BUDGET_SECONDS,
) -> int:
    """Deliver due pending events, oldest due first, in leased batches, within a time
    budget. Returns how many were attempted."""
    started = time.monotonic()
    attempted = 0
    while attempted < limit and time.monotonic() - started < time_budget_seconds:
        events = _claim(limit=min(batch_size, limit - attempted))
        if not events:
            break
        _send_and_record(events)
        attempted += len(events)
    return attempted


def outbox_redeliver(*, events: Iterable[OutboxEvent]) -> int:
    """Put events (dead or delivered) back in the queue with a fresh attempt count; the
    event id stays the same so the receiver can tell a redelivery."""
    pks = [event.pk for event in events]
    now = timezone.now()
    with transaction.atomic():
        locked = list(OutboxEvent.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
        for event in locked:
            outbox_event_transition(event=event, to_status=OutboxEvent.Status.PENDING, at=now)
        OutboxEvent.objects.bulk_update(locked, ["status", "attempts", "next_attempt_at", "delivered_at", "last_error"])
        transaction.on_commit(lambda: outbox_enqueue(event_pks=pks))
    return len(locked)


def outbox_write_meeting_dispositioned(meeting) -> list[OutboxEvent]:
    """apps.meetings calls this inside the disposition's transaction (on_meeting_dispositioned)."""

    def build() -> dict:

        m = Meeting.objects.select_related("contact", "account", "sdr__user", "ae__user").get(pk=meeting.pk)
        def iso(value):
            return value.isoformat() if value else None

        return {
            "meeting": {
                "id": m.pk, "kind": m.kind, "status": m.status, "scheduled_at": iso(m.scheduled_at),
                "dispositioned_at": iso(m.dispositioned_at), "disposition_notes": m.disposition_notes,
                "late": m.disposition_late, "opportunity_id": m.opportunity_id,
            },
            "contact": {"id": m.contact_id, "email": m.contact.email},
            "account": {"id": m.account_id, "name": m.account.name, "domain": m.account.domain},
            "sdr": _rep_json(m.sdr),
            "ae": _rep_json(m.ae),
        }

    return outbox_write(
        event_type=EventType.MEETING_DISPOSITIONED, build_data=build, occurred_at=meeting.dispositioned_at or timezone.now()
    )
