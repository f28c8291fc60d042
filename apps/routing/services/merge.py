"""Merging a duplicate account into the one that stays."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import Account, DomainAlias, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.routing.models import (
    ReturnRequest,
)

logger = logging.getLogger(__name__)


def account_merge(*, duplicate: Account, survivor: Account, actor=None) -> Account:
    """Merge `duplicate` into `survivor`: contacts, activities, signals, aliases, ownership
    history and every other row pointing at the duplicate move to the survivor; the
    duplicate's domain becomes the survivor's alias; the duplicate is deleted. Rows that
    would collide with the survivor's own (a one-to-one, a unique signal) are dropped."""
    if duplicate.pk == survivor.pk:
        raise ValidationError("An account cannot be merged into itself.")
    with transaction.atomic():
        first, second = sorted([duplicate.pk, survivor.pk])
        list(Account.objects.select_for_update(no_key=True).filter(pk__in=[first, second]).order_by("pk").values_list("pk"))
        duplicate = Account.objects.get(pk=duplicate.pk)
        if duplicate.owner_id is not None:
            account_owners_set(changes=[(duplicate.pk, None)], reason=OwnershipReason.RETURN, actor=actor,
                               note=f"Merged into {survivor.name}")
        for relation in Account._meta.get_fields(include_hidden=True):
            if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
                continue
            model, field_name = relation.related_model, relation.field.name
            if model is ReturnRequest and field_name == "account":
                continue  # Returns keep their own name snapshot; this one records the merge.
            rows = model._base_manager.filter(**{field_name: duplicate})
            if relation.one_to_one:
                rows.delete()  # Describes the duplicate only (its rest period, its own score…).
                continue
            try:
                with transaction.atomic():
                    rows.update(**{field_name: survivor})
            except IntegrityError:
                for pk in list(rows.values_list("pk", flat=True)):
                    try:
                        with transaction.atomic():
                            model._base_manager.filter(pk=pk).update(**{field_name: survivor})
                    except IntegrityError:
                        model._base_manager.filter(pk=pk).delete()
        old_domain = duplicate.domain
        Account.objects.filter(pk=duplicate.pk).update(domain=None, matching_key="")
        if old_domain and old_domain != survivor.domain:
            DomainAlias(account=survivor, domain=old_domain).save()
        ReturnRequest.objects.filter(account=duplicate).update(account=None)
        Account.objects.filter(pk=duplicate.pk).delete()
    return survivor
