"""Opportunities and contacts from the CRM: webhook events and POST/PATCH /api/opportunities/.

Both entries apply through `crm_opportunity_apply` / `crm_contact_apply`, which call the same
services as the admin (apps.meetings.services: opportunity_create, opportunity_stage_set,
opportunity_handover, opportunity_update; apps.people.services.contact_upsert), so stage
history, SDR attribution (kept when the owner changes) and closed-won/lost rules are theirs.

Records are keyed by the CRM's external id (CrmLink, unique per kind). A change carries the
sender's timestamp; the newest applied per record is kept (integrations.RecordVersion) and an
older one arriving late answers "stale" and changes nothing. Redeliveries are absorbed by the
webhook's idempotency key; a repeat of the same change through the API is a no-op.

Shapes (`normalize_opportunity`): Salesforce's Opportunity (`Id`, `Name`, `StageName`,
`OwnerId`, `IsClosed`/`IsWon`, `Amount`, `CloseDate`), HubSpot's deal (`id`, `properties`:
`dealname`, `dealstage`, `hubspot_owner_id`, `amount`, `closedate`), or ours (`external_id`,
`name`, `stage`, `owner_email`, `amount`, `close_date`). Stage names and CRM users are mapped by
the tables ops edit (CrmStageMapping, CrmUserMapping).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.accounts.domains import normalize_domain
from apps.accounts.selectors import account_holding_domain
from apps.connect.models import CrmLink, CrmStageMapping, CrmSystem, CrmUserMapping
from apps.integrations import events as integration_events
from apps.integrations.models import RecordVersion
from apps.meetings.models import ClosedLostReason, Opportunity, OpportunityStage
from apps.meetings.services import (
    opportunity_create,
    opportunity_handover,
    opportunity_stage_set,
    opportunity_update,
)
from apps.people.models import Contact, Rep
from apps.people.services import contact_upsert
from sdrops.access import accounts_visible_to

UNSET = object()


@dataclass
class OpportunityChange:
    system: str
    external_id: str
    name: object = UNSET
    stage_value: object = UNSET
    is_closed: bool | None = None
    is_won: bool | None = None
    owner: object = UNSET
    amount: object = UNSET
    close_date: object = UNSET
    account_domain: str = ""
    lost_reason: str = ""
    lost_details: str = ""


def _text(value, field: str, errors: dict) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        errors[field] = ["Expected a string."]
        return ""
    return value.strip()


def _amount(value, field: str, errors: dict):
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        errors[field] = ["Expected a number."]
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors[field] = ["Expected a number."]
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        errors[field] = ["Expected a non-negative amount below 10^12."]
        return None
    return amount.quantize(Decimal("0.01"))


def _date(value, field: str, errors: dict):
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        # HubSpot sends dates as epoch milliseconds.
        try:
            return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            errors[field] = ["Out of range."]
            return None
    if not isinstance(value, str):
        errors[field] = ["Expected a date (YYYY-MM-DD)."]
        return None
    try:
        parsed = parse_date(value[:10]) if len(value) >= 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        parsed = moment.date() if moment else None
    if parsed is None:
        errors[field] = ["Expected a date (YYYY-MM-DD)."]
    return parsed


def _bool(value, field: str, errors: dict) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    errors[field] = ["Expected true or false."]
    return None


def detect_system(payload: dict) -> str:
    if "StageName" in payload or "OwnerId" in payload or "IsWon" in payload or "Id" in payload:
        return CrmSystem.SALESFORCE
    if isinstance(payload.get("properties"), dict):
        return CrmSystem.HUBSPOT
    return CrmSystem.SDROPS


def normalize_opportunity(payload: dict, *, prefix: str = "opportunity") -> OpportunityChange:
    """One opportunity in any of the three shapes → OpportunityChange; ValidationError names
    the payload's own field names."""
    if not isinstance(payload, dict):
        raise ValidationError({prefix: ["Expected an object."]})
    errors: dict[str, list[str]] = {}
    system = detect_system(payload)
    if system == CrmSystem.SALESFORCE:
        props, names = payload, {"id": "Id", "name": "Name", "stage": "StageName", "owner": "OwnerId",
                                 "amount": "Amount", "close_date": "CloseDate"}
    elif system == CrmSystem.HUBSPOT:
        props = payload["properties"]
        names = {"id": "id", "name": "dealname", "stage": "dealstage", "owner": "hubspot_owner_id",
                 "amount": "amount", "close_date": "closedate"}
    else:
        props, names = payload, {"id": "external_id", "name": "name", "stage": "stage", "owner": "owner_email",
                                 "amount": "amount", "close_date": "close_date"}
    source = payload if names["id"] in payload or system != CrmSystem.HUBSPOT else props
    external_id = _text(source.get(names["id"], payload.get("id")), f"{prefix}.{names['id']}", errors)
    if not external_id:
        errors.setdefault(f"{prefix}.{names['id']}", ["Required: the CRM's id of the opportunity."])
    elif len(external_id) > 100:
        errors[f"{prefix}.{names['id']}"] = ["At most 100 characters."]
    change = OpportunityChange(system=system, external_id=external_id)
    if names["name"] in props:
        change.name = _text(props[names["name"]], f"{prefix}.{names['name']}", errors)[:255]
    if names["stage"] in props:
        change.stage_value = _text(props[names["stage"]], f"{prefix}.{names['stage']}", errors)
    if names["owner"] in props:
        change.owner = _text(props[names["owner"]], f"{prefix}.{names['owner']}", errors)
    if names["amount"] in props:
        change.amount = _amount(props[names["amount"]], f"{prefix}.{names['amount']}", errors)
    if names["close_date"] in props:
        change.close_date = _date(props[names["close_date"]], f"{prefix}.{names['close_date']}", errors)
    if system == CrmSystem.SALESFORCE:
        change.is_closed = _bool(payload.get("IsClosed"), f"{prefix}.IsClosed", errors)
        change.is_won = _bool(payload.get("IsWon"), f"{prefix}.IsWon", errors)
    domain = payload.get("account_domain") or (props.get("account_domain") if props is not payload else None)
    if isinstance(payload.get("Account"), dict):
        domain = domain or payload["Account"].get("Website")
    if domain is not None:
        change.account_domain = _text(domain, f"{prefix}.account_domain", errors)
    reason = payload.get("closed_lost_reason") or props.get("closed_lost_reason") or ""
    if reason:
        if reason not in ClosedLostReason.values:
            errors[f"{prefix}.closed_lost_reason"] = [f"Expected one of {', '.join(ClosedLostReason.values)}."]
        change.lost_reason = reason
    details = props.get("closed_lost_details") or payload.get("Loss_Reason__c") or props.get("closed_lost_reason_text")
    if isinstance(details, str):
        change.lost_details = details[:2000]
    if "won" in payload:
        # opportunity.closed in our shape (or added to a HubSpot deal): won true / false.
        change.is_closed, change.is_won = True, _bool(payload.get("won"), f"{prefix}.won", errors)
    if errors:
        raise ValidationError(errors)
    return change


def stage_for(*, system: str, value: str, is_closed: bool | None = None, is_won: bool | None = None,
              field: str = "opportunity.stage") -> OpportunityStage | None:
    """Mapping first (ops' table), then our own stage codes and names; Salesforce's
    IsClosed/IsWon decide closed won / lost when the name is not mapped."""
    if value:
        mapped = (
            CrmStageMapping.objects.select_related("stage").filter(system=system, crm_value__iexact=value).first()
        )
        if mapped is not None:
            return mapped.stage
        own = OpportunityStage.objects.filter(code=value).first() or OpportunityStage.objects.filter(
            name__iexact=value).first()
        if own is not None:
            return own
    if is_closed:
        return OpportunityStage.objects.get(code=OpportunityStage.CLOSED_WON if is_won else OpportunityStage.CLOSED_LOST)
    if value:
        raise ValidationError({field: [f"No stage is mapped for the {CrmSystem(system).label} stage “{value}”; "
                                       "ops add it under Connections › CRM stage mappings."]})
    return None


def rep_for(*, system: str, value: str, field: str = "opportunity.owner") -> Rep:
    mapped = CrmUserMapping.objects.select_related("rep").filter(system=system, crm_user__iexact=value).first()
    if mapped is not None:
        return mapped.rep
    if "@" in value:
        rep = Rep.objects.filter(user__email__iexact=value, active=True).first()
        if rep is not None:
            return rep
    raise ValidationError({field: [f"No rep is mapped for the {CrmSystem(system).label} user “{value}”; "
                                   "ops add it under Connections › CRM user mappings."]})


def _version_check(*, integration, record_key: str, sender_time: dt.datetime | None) -> dict | None:
    """None when the change is newer than what was applied (and it becomes the version)."""
    if integration is None or sender_time is None:
        return None
    version, created = RecordVersion.objects.select_for_update().get_or_create(
        integration=integration, record_key=record_key, defaults={"sender_timestamp": sender_time}
    )
    if not created and version.sender_timestamp > sender_time:
        return {"result": "stale", "record_key": record_key,
                "detail": f"A newer change of this record (from {version.sender_timestamp.isoformat()}) was already applied."}
    if not created:
        version.sender_timestamp = sender_time
        version.save(update_fields=["sender_timestamp", "updated_at"])
    return None


def _answer(opportunity: Opportunity, result: str, record_key: str) -> dict:
    opportunity.refresh_from_db()
    return {
        "result": result, "record_key": record_key, "opportunity_id": opportunity.pk,
        "external_id": opportunity.crm_link.external_id, "stage": opportunity.stage.code,
        "owner": opportunity.owner.owner_name, "sourcing_sdr": opportunity.sourcing_sdr.owner_name
        if opportunity.sourcing_sdr_id else None, "is_open": opportunity.is_open,
    }


def crm_opportunity_apply(
    *, change: OpportunityChange, actor, integration=None, sender_time: dt.datetime | None = None,
    account=None, owner: Rep | None = None, stage: OpportunityStage | None = None,
) -> dict:
    """Create or update the opportunity with this external id. `account` / `owner` / `stage`
    are given already resolved by the API; the webhook resolves them from the change."""
    record_key = f"opportunity:{change.external_id}"
    with transaction.atomic():
        stale = _version_check(integration=integration, record_key=record_key, sender_time=sender_time)
        if stale is not None:
            link = CrmLink.objects.filter(kind=CrmLink.Kind.OPPORTUNITY, external_id=change.external_id).first()
            return {**stale, "opportunity_id": link.opportunity_id if link else None}
        at = sender_time or timezone.now()
        if stage is None and (change.stage_value is not UNSET or change.is_closed):
            stage = stage_for(system=change.system, value=change.stage_value if change.stage_value is not UNSET else "",
                              is_closed=change.is_closed, is_won=change.is_won)
        if owner is None and change.owner is not UNSET and change.owner:
            owner = rep_for(system=change.system, value=change.owner)
        link = (
            CrmLink.objects.select_for_update(of=("self",)).select_related("opportunity")
            .filter(kind=CrmLink.Kind.OPPORTUNITY, external_id=change.external_id).first()
        )
        if link is None:
            if account is None:
                if not change.account_domain:
                    raise ValidationError({"opportunity.account_domain": [
                        "Required for a new opportunity: the domain of its account (the company's website)."]})
                try:
                    domain = normalize_domain(change.account_domain)
                except ValidationError as error:
                    raise ValidationError({"opportunity.account_domain": error.messages})
                account = account_holding_domain(domain)
                if account is None or not accounts_visible_to(user=actor).filter(pk=account.pk).exists():
                    raise ValidationError({"opportunity.account_domain": [f"No account has the domain {domain}."]})
            if owner is None:
                raise ValidationError({"opportunity.owner": ["Required for a new opportunity: its AE owner."]})
            open_stage = stage if stage is not None and stage.is_open else None
            opportunity = opportunity_create(
                account=account, owner=owner, actor=actor, stage=open_stage,
                name="" if change.name is UNSET else change.name,
                amount=None if change.amount is UNSET else change.amount,
                close_date=None if change.close_date is UNSET else change.close_date, at=at,
            )
            CrmLink.objects.create(kind=CrmLink.Kind.OPPORTUNITY, external_id=change.external_id,
                                   opportunity=opportunity)
            if stage is not None and not stage.is_open:
                _stage(opportunity, stage, change, actor, at)
            return _answer(opportunity, "created", record_key)
        opportunity = link.opportunity
        fields = {}
        if change.name is not UNSET and change.name and change.name != opportunity.name:
            fields["name"] = change.name
        if change.amount is not UNSET and change.amount != opportunity.amount:
            fields["amount"] = change.amount
        if change.close_date is not UNSET and change.close_date != opportunity.close_date:
            fields["close_date"] = change.close_date
        if fields and opportunity.is_open:
            # opportunity_update writes all three plain fields: a change naming one of them
            # keeps the others (an amount-only change used to blank the close date).
            kept = {"name": opportunity.name, "amount": opportunity.amount, "close_date": opportunity.close_date}
            opportunity = opportunity_update(opportunity=opportunity, actor=actor, **{**kept, **fields})
        if owner is not None and owner.pk != opportunity.owner_id:
            # A hand-over: the sourcing SDR's attribution stays as it was.
            opportunity = opportunity_handover(opportunity=opportunity, to_owner=owner, actor=actor, at=at)
        if stage is not None and stage.pk != opportunity.stage_id:
            _stage(opportunity, stage, change, actor, at)
        return _answer(opportunity, "updated", record_key)


def _stage(opportunity: Opportunity, stage: OpportunityStage, change: OpportunityChange, actor, at) -> None:
    reason = ""
    if stage.outcome == OpportunityStage.Outcome.LOST:
        # The CRM's free-text loss reason is kept in the details; the coded reason defaults
        # to "other" so a CRM without our codes can still close a deal as lost.
        reason = change.lost_reason or ClosedLostReason.OTHER
    opportunity_stage_set(
        opportunity=opportunity, stage=stage, actor=actor, closed_lost_reason=reason,
        closed_lost_details=change.lost_details, at=at, note=f"CRM ({CrmSystem(change.system).label})",
    )


# --- contacts -------------------------------------------------------------------------------


def crm_contact_apply(*, payload: dict, actor, integration=None, sender_time: dt.datetime | None = None) -> dict:
    """contact.upsert: the contact with this external id (or, the first time, this email)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        raise ValidationError({"contact": ["Expected an object."]})
    props = payload.get("properties") if isinstance(payload.get("properties"), dict) else payload
    external_id = _text(payload.get("Id", payload.get("id", payload.get("external_id"))), "contact.external_id", errors)
    email = _text(props.get("Email", props.get("email")), "contact.email", errors).lower()
    fields = {
        "first_name": _text(props.get("FirstName", props.get("firstname", props.get("first_name"))), "contact.first_name", errors)[:100],
        "last_name": _text(props.get("LastName", props.get("lastname", props.get("last_name"))), "contact.last_name", errors)[:100],
        "title": _text(props.get("Title", props.get("jobtitle", props.get("title"))), "contact.title", errors)[:200],
    }
    if not external_id:
        errors.setdefault("contact.external_id", ["Required: the CRM's id of the contact."])
    if errors:
        raise ValidationError(errors)
    record_key = f"contact:{external_id}"
    with transaction.atomic():
        stale = _version_check(integration=integration, record_key=record_key, sender_time=sender_time)
        if stale is not None:
            return stale
        link = CrmLink.objects.select_for_update().filter(kind=CrmLink.Kind.CONTACT, external_id=external_id).first()
        if link is not None and link.merged_into:
            return {"result": "merged", "record_key": record_key, "merged_into": link.merged_into,
                    "detail": "This CRM record was merged away; changes go to the surviving record."}
        if link is not None and link.contact_id:
            contact = Contact.objects.select_for_update(no_key=True).get(pk=link.contact_id)
            if email and email != contact.email:
                if Contact.objects.filter(email=email).exclude(pk=contact.pk).exists():
                    raise ValidationError({"contact.email": [f"Another contact already has {email}."]})
                contact.email = email
                contact.full_clean(exclude=["account"], validate_unique=False)
                contact.save(update_fields=["email", "updated_at"])
            contact, _created = contact_upsert(email=contact.email, actor=actor, **fields)
            result = "updated"
        else:
            if not email:
                raise ValidationError({"contact.email": ["Required for a new contact."]})
            contact, created = contact_upsert(email=email, actor=actor, **fields)
            if CrmLink.objects.filter(contact=contact).exclude(external_id=external_id).exists():
                raise ValidationError({"contact.email": [f"{email} belongs to another CRM record."]})
            if link is None:
                CrmLink.objects.create(kind=CrmLink.Kind.CONTACT, external_id=external_id, contact=contact)
            else:
                link.contact = contact
                link.save(update_fields=["contact", "updated_at"])
            result = "created" if created else "linked"
        if contact.account_id is None:
            domain = props.get("account_domain") or (email.split("@", 1)[1] if "@" in email else "")
            try:
                account = account_holding_domain(normalize_domain(domain)) if domain else None
            except ValidationError:
                account = None
            if account is not None:
                Contact.objects.filter(pk=contact.pk).update(account=account)
    return {"result": result, "record_key": record_key, "contact_id": contact.pk, "external_id": external_id}


def crm_contact_merge(*, payload: dict, actor, integration=None, sender_time: dt.datetime | None = None) -> dict:
    """contact.merged: the CRM merged `external_id` into `merged_into_external_id`. The
    surviving id takes over the portal contact when it had none; two portal contacts are
    not merged unseen (their activity histories differ) — the merged-away link records it."""
    if not isinstance(payload, dict):
        raise ValidationError({"merge": ["Expected an object."]})
    errors: dict[str, list[str]] = {}
    loser = _text(payload.get("external_id"), "merge.external_id", errors)
    winner = _text(payload.get("merged_into_external_id"), "merge.merged_into_external_id", errors)
    if not loser:
        errors.setdefault("merge.external_id", ["Required."])
    if not winner:
        errors.setdefault("merge.merged_into_external_id", ["Required."])
    if loser and loser == winner:
        errors["merge.merged_into_external_id"] = ["A record cannot be merged into itself."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        stale = _version_check(integration=integration, record_key=f"contact:{loser}", sender_time=sender_time)
        if stale is not None:
            return stale
        links = {
            link.external_id: link for link in CrmLink.objects.select_for_update()
            .filter(kind=CrmLink.Kind.CONTACT, external_id__in=[loser, winner])
        }
        lost, kept = links.get(loser), links.get(winner)
        moved_contact_id = lost.contact_id if lost else None
        if lost is None:
            lost = CrmLink(kind=CrmLink.Kind.CONTACT, external_id=loser)
        if kept is None and moved_contact_id is not None:
            lost.contact = None
            lost.merged_into = winner
            lost.save()
            CrmLink.objects.create(kind=CrmLink.Kind.CONTACT, external_id=winner, contact_id=moved_contact_id)
            result = "relinked"
        else:
            lost.merged_into = winner
            lost.save()
            result = "merge_recorded"
    return {"result": result, "record_key": f"contact:{loser}", "merged_into": winner,
            "contact_id": moved_contact_id}


# --- the webhook's events -------------------------------------------------------------------

CRM_EVENT_SECTIONS = {
    "opportunity.upsert": "opportunity",
    "opportunity.stage_changed": "opportunity",
    "opportunity.closed": "opportunity",
    "contact.upsert": "contact",
    "contact.merged": "merge",
}


def crm_event_apply(*, integration, data: dict) -> dict:
    """One verified, parsed CRM webhook event of the kinds above (apps.integrations calls it)."""
    kind, actor, sender_time = data["event"], integration.user, data["occurred_at"]
    if kind.startswith("opportunity."):
        needed = ["meetings.add_opportunity", "meetings.change_opportunity"]
        if not actor.has_perms(needed):
            raise ValidationError({"opportunity": ["The integration's user may not create or change opportunities."]})
        change = normalize_opportunity(data["opportunity"])
        if kind == "opportunity.closed":
            if change.is_won is None and change.stage_value is UNSET:
                raise ValidationError({"opportunity.won": ["Required: true (closed won) or false (closed lost)."]})
            change.is_closed = True
            if change.stage_value is not UNSET:
                # A closing event's stage must be a closed one, whatever the CRM calls it.
                stage = stage_for(system=change.system, value=change.stage_value, is_closed=True,
                                  is_won=change.is_won)
                if stage.is_open:
                    change.stage_value = UNSET
        elif kind == "opportunity.stage_changed" and change.stage_value is UNSET and not change.is_closed:
            raise ValidationError({"opportunity.stage": ["Required: the new stage."]})
        return crm_opportunity_apply(change=change, actor=actor, integration=integration, sender_time=sender_time)
    if not actor.has_perms(["people.add_contact", "people.change_contact"]):
        raise ValidationError({"contact": ["The integration's user may not create or change contacts."]})
    if kind == "contact.upsert":
        return crm_contact_apply(payload=data["contact"], actor=actor, integration=integration, sender_time=sender_time)
    return crm_contact_merge(payload=data["merge"], actor=actor, integration=integration, sender_time=sender_time)


# --- outbound ---------------------------------------------------------------------------------


def crm_ids_add(data: dict) -> dict:
    """Put the CRM's external ids into an outbound event's data (the webhook outbox calls
    this), so the CRM can update its own records: `contact.crm_id`,
    `meeting.opportunity_crm_id`. Two queries at most, only for subscribed events."""
    contact = data.get("contact")
    if isinstance(contact, dict) and contact.get("id"):
        contact["crm_id"] = (
            CrmLink.objects.filter(kind=CrmLink.Kind.CONTACT, contact_id=contact["id"])
            .values_list("external_id", flat=True).first()
        )
    meeting = data.get("meeting")
    if isinstance(meeting, dict) and "opportunity_id" in meeting:
        meeting["opportunity_crm_id"] = (
            CrmLink.objects.filter(kind=CrmLink.Kind.OPPORTUNITY, opportunity_id=meeting["opportunity_id"])
            .values_list("external_id", flat=True).first()
            if meeting["opportunity_id"] else None
        )
    return data


@receiver(integration_events.crm_event_received, dispatch_uid="connect-crm-event-received")
def on_crm_event_received(sender, *, integration, data: dict, **kwargs) -> dict | None:
    """apps.integrations' CRM webhook: opportunity and contact events are applied here."""
    if not data["event"].startswith(("opportunity.", "contact.")):
        return None
    return crm_event_apply(integration=integration, data=data)


@receiver(integration_events.outbound_event_data, dispatch_uid="connect-crm-outbound-ids")
def on_outbound_event_data(sender, *, data: dict, **kwargs) -> None:
    crm_ids_add(data)
