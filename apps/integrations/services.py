"""Writes made on behalf of other systems: activities logged through the API, account
field updates, CRM webhook deliveries, integrations themselves.

Owner changes always go through apps.accounts.services (reason "api"); this module never
writes Account.owner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.domains import normalize_domain
from apps.accounts.models import Activity, OwnershipReason
from apps.accounts.selectors import account_holding_domain, accounts_visible_to
from apps.accounts.services import (
    account_create,
    account_fields_update,
    account_set_owner,
)
from apps.cadences.services import activity_create
from apps.integrations import events
from apps.integrations.jsonbody import JsonRefused, json_body_loads
from apps.integrations.models import (
    InboundDelivery,
    Integration,
    MergeNotice,
    OutboxEvent,
    RecordVersion,
    Scope,
)
from apps.people.selectors import normalize_owner_name, rep_by_owner_name, reps_visible_to
from sdrops.api.support import django_error_messages

# --- activities ------------------------------------------------------------------------------


@dataclass
class BulkItemResult:
    index: int
    activity: Activity | None = None
    errors: dict | None = None


def activities_record_bulk(*, actor, items: list[dict]) -> list[BulkItemResult]:
    """Record each item in its own savepoint: an item is written whole or not at all, and
    one bad item does not stop the others. `items` are activity_create keyword sets, or
    {"errors": {...}} for items that already failed validation."""

    results = []
    # One commit for the request (a commit per item made 1,000 items take seconds); a
    # savepoint per item keeps each item whole or absent.
    with transaction.atomic():
        for index, item in enumerate(items):
            if "errors" in item:
                results.append(BulkItemResult(index=index, errors=item["errors"]))
                continue
            try:
                with transaction.atomic():
                    activity = activity_create(actor=actor, **item)
            except ValidationError as error:
                results.append(BulkItemResult(index=index, errors=django_error_messages(error)))
            except IntegrityError:
                results.append(
                    BulkItemResult(index=index, errors={"non_field_errors": ["Conflicts with an existing record."]})
                )
            else:
                results.append(BulkItemResult(index=index, activity=activity))
    return results


# --- accounts --------------------------------------------------------------------------------

# --- CRM webhook ------------------------------------------------------------------------------

CRM_ACCOUNT_KINDS = ("account.upsert", "account.merged")
# Opportunities and contacts are applied by apps.connect.crm (CRM_EVENT_SECTIONS there).
CRM_KINDS = (*CRM_ACCOUNT_KINDS, "opportunity.upsert", "opportunity.stage_changed", "opportunity.closed",
             "contact.upsert", "contact.merged")
# How far ahead of our clock a CRM's occurred_at may be: clock drift, not a year. A time far in
# the future would be kept as the record's version and make every real update "stale".
OCCURRED_AT_MAX_AHEAD = dt.timedelta(minutes=5)


@dataclass
class CrmAnswer:
    status: int
    body: dict
    replayed: bool = False


class CrmDeliveryError(ValidationError):
    pass


def _parse_crm(body: bytes) -> dict:
    try:
        data = json_body_loads(body)
    except JsonRefused as error:
        raise ValidationError({"non_field_errors": [f"The body is not JSON: {error}"]})
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    errors = {}
    kind = data.get("event")
    if kind not in CRM_KINDS:
        errors["event"] = [f"Expected one of {', '.join(CRM_KINDS)}."]
    occurred = data.get("occurred_at")
    parsed = None
    if not isinstance(occurred, str):
        errors["occurred_at"] = ["Required: the time the change happened in the CRM (ISO 8601 with a time zone)."]
    else:
        try:
            parsed = parse_datetime(occurred)
        except ValueError:
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            errors["occurred_at"] = ["Expected an ISO 8601 date-time with a time zone, e.g. 2026-11-26T06:00:00Z."]
        else:
            try:
                # PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
                parsed = parsed.astimezone(dt.UTC)
            except OverflowError:
                errors["occurred_at"] = ["Out of range."]
            else:
                now = timezone.now()
                if parsed > now + OCCURRED_AT_MAX_AHEAD:
                    errors["occurred_at"] = [
                        f"{occurred} is in the future (the server's time is {now:%Y-%m-%dT%H:%M:%SZ}; at most "
                        f"{int(OCCURRED_AT_MAX_AHEAD.total_seconds() // 60)} minutes ahead is accepted). "
                        "Send the time the change happened in the CRM."
                    ]
    section = {"account.upsert": "account", "account.merged": "merge", "opportunity.upsert": "opportunity",
               "opportunity.stage_changed": "opportunity", "opportunity.closed": "opportunity",
               "contact.upsert": "contact", "contact.merged": "merge"}.get(kind, "merge")
    if kind in CRM_KINDS and not isinstance(data.get(section), dict):
        errors[section] = [f"Required: an object with the {section} fields."]
    if errors:
        raise ValidationError(errors)
    data["occurred_at"] = parsed
    return data


def _record_key(data: dict, domain: str) -> str:
    record_id = data.get("record_id")
    if isinstance(record_id, str | int) and str(record_id).strip():
        return f"id:{str(record_id).strip()[:250]}"
    return f"domain:{domain}"


UPSERT_FIELDS = {
    "name": str, "website": str, "industry": str, "employees": int, "country": str, "region": str,
    "segment": str, "status": str,
}


def _upsert_fields(payload: dict) -> dict:
    fields, errors = {}, {}
    for field, kind in UPSERT_FIELDS.items():
        if field not in payload:
            continue
        value = payload[field]
        if value is None:
            value = "" if kind is str else None
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            errors[f"account.{field}"] = ["Expected a whole number."]
            continue
        elif kind is str and not isinstance(value, str):
            errors[f"account.{field}"] = ["Expected a string."]
            continue
        fields[field] = value
    if errors:
        raise ValidationError(errors)
    return fields


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:

    return ValidationError({
        (prefix if field == "non_field_errors" else f"{prefix}.{field}"): messages
        for field, messages in django_error_messages(error).items()
    })


def _crm_upsert(*, integration: Integration, data: dict) -> dict:
    payload = data["account"]
    raw_domain = payload.get("domain")
    if not isinstance(raw_domain, str):
        raise ValidationError({"account.domain": ["Required: the account's domain or website."]})
    try:
        domain = normalize_domain(raw_domain)
    except ValidationError as error:
        raise ValidationError({"account.domain": error.messages})
    fields = _upsert_fields(payload)
    actor = integration.user
    owner_given = "owner_name" in payload
    owner = None
    # The right first, then the look-up among the reps the integration's user sees: a user
    # without it learns nothing about which owner names exist.
    if owner_given and not actor.has_perm("accounts.change_account_owner"):
        raise ValidationError({"account.owner_name": ["The integration's user may not change owners."]})
    if owner_given and payload["owner_name"] not in (None, ""):
        if not isinstance(payload["owner_name"], str):
            raise ValidationError({"account.owner_name": ["Expected a string."]})
        owner = rep_by_owner_name(payload["owner_name"])
        if owner is not None and not reps_visible_to(user=actor).filter(pk=owner.pk).exists():
            owner = None
        if owner is None:
            raise ValidationError(
                {"account.owner_name": [f"No rep has the owner name “{normalize_owner_name(payload['owner_name'])}”."]}
            )

    # Accounts are found within the integration's scope: one held by a hidden account is
    # answered exactly as a domain nobody holds (for a company-wide integration both exist).
    holder = account_holding_domain(domain)
    visible = holder is not None and accounts_visible_to(user=actor).filter(pk=holder.pk).exists()
    record_key = _record_key(data, domain)
    sender_time = data["occurred_at"]
    version, _ = RecordVersion.objects.select_for_update().get_or_create(
        integration=integration, record_key=record_key, defaults={"sender_timestamp": sender_time}
    )
    if version.sender_timestamp > sender_time:
        return {
            "result": "stale",
            "record_key": record_key,
            "detail": f"A newer change of this record (from {version.sender_timestamp.isoformat()}) was already applied.",
            "account_id": holder.pk if visible else None,
        }
    version.sender_timestamp = sender_time
    version.save(update_fields=["sender_timestamp", "updated_at"])

    account = holder if visible else None
    if account is None and not actor.has_perm("accounts.add_account"):
        raise ValidationError({"account.domain": [
            f"No account has {domain} in the integration's scope, and the integration's user may not create accounts."
        ]})
    if account is None and holder is not None:
        # May create accounts but not see this one: the domain is taken (that much a create shows anyway).
        raise ValidationError({"account.domain": [f"{domain} belongs to an account outside the integration's scope."]})
    if account is not None and not actor.has_perm("accounts.change_account"):
        raise ValidationError({"account.domain": ["The integration's user may not change accounts."]})
    if account is None:
        name = fields.pop("name", "") or domain
        try:
            account = account_create(name=name, domain=domain, actor=actor, **fields)
        except ValidationError as error:
            raise _prefixed(error, "account")
        result = "created"
    else:
        try:
            account = account_fields_update(account=account, actor=actor, fields=fields)
        except ValidationError as error:
            raise _prefixed(error, "account")
        result = "updated"
    owner_event = None
    if owner_given:
        owner_event = account_set_owner(
            account=account, to_rep=owner, reason=OwnershipReason.API, actor=actor,
            note=f"CRM sync ({integration.name})",
        )
    account.refresh_from_db(fields=["owner"])
    return {
        "result": result,
        "record_key": record_key,
        "account_id": account.pk,
        "domain": account.domain,
        "owner": account.owner.owner_name if account.owner_id else None,
        "owner_changed": owner_event is not None,
    }


def _crm_merge(*, integration: Integration, data: dict) -> dict:
    payload = data["merge"]
    errors, domains = {}, {}
    for field in ("domain", "merged_into_domain"):
        value = payload.get(field)
        if not isinstance(value, str):
            errors[f"merge.{field}"] = ["Required: a domain."]
            continue
        try:
            domains[field] = normalize_domain(value)
        except ValidationError as error:
            errors[f"merge.{field}"] = error.messages
    if errors:
        raise ValidationError(errors)
    # Recorded for ops only: merging accounts (contacts, activities, aliases, owner) is the
    # returns review's "merge the duplicate" decision (apps.routing), not something a CRM
    # notice should do unseen.
    # Linked to accounts only within the integration's scope (a hidden one is left unlinked,
    # as an unknown domain is); the domains themselves are kept for ops either way.
    visible = accounts_visible_to(user=integration.user)

    def linked(domain):
        holder = account_holding_domain(domain)
        return holder if holder is not None and visible.filter(pk=holder.pk).exists() else None

    notice = MergeNotice.objects.create(
        integration=integration,
        domain=domains["domain"],
        merged_into_domain=domains["merged_into_domain"],
        account=linked(domains["domain"]),
        merged_into=linked(domains["merged_into_domain"]),
        sender_timestamp=data["occurred_at"],
    )
    return {"result": "merge_recorded", "merge_notice_id": notice.pk,
            "detail": "Recorded for ops review; accounts are not merged automatically."}


def _storable(answer: dict) -> dict:
    """Error messages quote the sender's values; lone surrogates from JSON escapes can be
    neither stored in jsonb nor encoded as UTF-8, so they become U+FFFD."""
    text = json.dumps(answer, ensure_ascii=False)
    return json.loads(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))


def crm_delivery_receive(
    *, integration: Integration, idempotency_key: str, body: bytes, legacy_signature: bool = False,
    key_header: str = "Idempotency-Key",
) -> CrmAnswer:
    """Apply one verified CRM delivery, once. The delivery row is inserted first, so a
    concurrent duplicate waits on its unique key and then replays the stored answer.

    `idempotency_key` is the signed webhook-id of a Standard Webhooks delivery. A delivery
    signed the old way (body only) names its key in an unsigned header, so anyone who saw it
    could resend it under a new key: such a body, once applied, answers with the stored
    answer whatever its key (for as long as deliveries are kept, INBOUND_DELIVERY_HISTORY_DAYS)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200 or not key.isprintable():
        return CrmAnswer(400, {"detail": "Invalid input.", "errors": {
            key_header: ["Required header: a unique key per delivery (at most 200 printable characters)."]}})
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        if legacy_signature:
            # Serialise old-scheme deliveries of the same body, so two copies sent at once
            # under different keys cannot both pass the check below.
            lock = int.from_bytes(hashlib.sha256(f"{integration.pk}:{digest}".encode()).digest()[:8], "big", signed=True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
            earlier = (
                InboundDelivery.objects.filter(integration=integration, body_sha256=digest)
                .exclude(idempotency_key=key).order_by("id").first()
            )
            if earlier is not None:
                return CrmAnswer(earlier.response_status, earlier.response_body, replayed=True)
        try:
            with transaction.atomic():
                delivery = InboundDelivery.objects.create(
                    integration=integration, idempotency_key=key, body_sha256=digest, response_status=0,
                )
        except IntegrityError:
            previous = InboundDelivery.objects.get(integration=integration, idempotency_key=key)
            if previous.body_sha256 != digest:
                return CrmAnswer(409, {"detail": "This Idempotency-Key was already used for a different body.",
                                       "errors": {}})
            return CrmAnswer(previous.response_status, previous.response_body, replayed=True)
        status, answer = 200, {}
        try:
            with transaction.atomic():
                data = _parse_crm(body)
                delivery.kind = data["event"]
                delivery.sender_timestamp = data["occurred_at"]
                if data["event"] == "account.upsert":
                    answer = _crm_upsert(integration=integration, data=data)
                elif data["event"] == "account.merged":
                    answer = _crm_merge(integration=integration, data=data)
                else:
                    # Opportunities and contacts: apps.connect.crm's receiver applies them.
                    answers = [
                        response for _, response in events.crm_event_received.send(
                            sender=Integration, integration=integration, data=data)
                        if response is not None
                    ]
                    if not answers:
                        raise ValidationError({"event": [f"No handler for {data['event']} is installed."]})
                    answer = answers[0]
        except ValidationError as error:

            status, answer = 400, {"detail": "Invalid input.", "errors": django_error_messages(error)}
        except DataError:
            status, answer = 400, {"detail": "A value is out of range for its field.", "errors": {}}
        answer = _storable(answer)
        delivery.record_key = str(answer.get("record_key", ""))[:300]
        delivery.response_status = status
        delivery.response_body = answer
        delivery.save()
    return CrmAnswer(status, answer)


# --- integrations ----------------------------------------------------------------------------


def integration_create(
    *, name: str, user, scopes: list[str], throttle_rate: str = ""
) -> tuple[Integration, str]:
    """Create an integration; returns it and its token (shown this once, stored hashed)."""
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope(s) {', '.join(sorted(unknown))}; expected {', '.join(Scope.values)}."})
    integration = Integration(name=name.strip(), user=user, scopes=sorted(set(scopes)), throttle_rate=throttle_rate)
    token = integration.set_token()
    integration.full_clean()
    integration.save()
    return integration, token


def integration_token_rotate(*, integration: Integration) -> str:
    token = integration.set_token()
    integration.save(update_fields=["token_hash", "token_hint"])
    return token


# --- housekeeping ----------------------------------------------------------------------------

PRUNE_BATCH = 5000


@dataclass(frozen=True)
class PruneResult:
    outbox_events: int
    delivery_attempts: int
    inbound_deliveries: int


def integrations_history_prune(*, now: dt.datetime | None = None) -> PruneResult:
    """Delete the integration records that only matter for a while; safe to run twice.

    - Delivered outbox events older than WEBHOOK_HISTORY_DAYS (by delivery time), with their
      delivery attempts. Pending events and dead letters stay until they are delivered,
      whatever their age: ops still have to act on them.
    - Inbound deliveries older than INBOUND_DELIVERY_HISTORY_DAYS: the idempotency record of
      each CRM delivery. A CRM replaying a delivery older than that applies it again, and the
      per-record versions (kept) still refuse it if it is stale.

    Deletes in batches of PRUNE_BATCH rows, each its own transaction, so a backlog of
    millions never holds locks for long; a job killed part-way leaves whole batches done.
    """
    now = now or timezone.now()
    outbox_before = now - dt.timedelta(days=settings.WEBHOOK_HISTORY_DAYS)
    inbound_before = now - dt.timedelta(days=settings.INBOUND_DELIVERY_HISTORY_DAYS)
    events = attempts = deliveries = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                WITH doomed AS (
                    SELECT id FROM integrations_outboxevent
                     WHERE status = %s AND delivered_at < %s
                     LIMIT %s FOR UPDATE SKIP LOCKED
                ), gone_attempts AS (
                    DELETE FROM integrations_deliveryattempt WHERE event_id IN (SELECT id FROM doomed) RETURNING 1
                ), gone_events AS (
                    DELETE FROM integrations_outboxevent WHERE id IN (SELECT id FROM doomed) RETURNING 1
                )
                SELECT (SELECT count(*) FROM gone_events), (SELECT count(*) FROM gone_attempts)
                """,
                [OutboxEvent.Status.DELIVERED.value, outbox_before, PRUNE_BATCH],
            )
            batch_events, batch_attempts = cursor.fetchone()
        events, attempts = events + batch_events, attempts + batch_attempts
        if batch_events < PRUNE_BATCH:
            break
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                DELETE FROM integrations_inbounddelivery WHERE id IN (
                    SELECT id FROM integrations_inbounddelivery WHERE received_at < %s
                     LIMIT %s FOR UPDATE SKIP LOCKED)
                """,
                [inbound_before, PRUNE_BATCH],
            )
            batch = cursor.rowcount
        deliveries += batch
        if batch < PRUNE_BATCH:
            break
    return PruneResult(outbox_events=events, delivery_attempts=attempts, inbound_deliveries=deliveries)
