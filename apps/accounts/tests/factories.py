from __future__ import annotations

import factory
from django.utils import timezone

from apps.accounts.models import Account, Activity, ActivityType, DomainAlias


class AccountFactory(factory.django.DjangoModelFactory):
    """Accounts start in the pool; give an owner through apps.accounts.services."""

    class Meta:
        model = Account

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"company{n}.com")
    industry = "Software"
    employees = 250
    country = "United States"


class DomainAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DomainAlias

    account = factory.SubFactory(AccountFactory)
    domain = factory.Sequence(lambda n: f"alias{n}.com")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    type = ActivityType.CALL
    account = factory.SubFactory(AccountFactory)
    occurred_at = factory.LazyFunction(timezone.now)
