from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.people.models import Contact, Rep, Team
from apps.people.roles import ROLE_GROUP, sync_role_groups


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_staff = True
    password = factory.django.Password("pw")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class RepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rep
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    owner_name = factory.Sequence(lambda n: f"Rep Number{n}")
    role = Rep.Role.SDR
    team = factory.SubFactory(TeamFactory)
    capacity = 100

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):
        if create:
            # Transactional tests flush the database afterwards, which drops the groups
            # the data migration made; put them back the same way.
            if not Group.objects.filter(name=ROLE_GROUP[obj.role]).exists():
                sync_role_groups()
            obj.user.groups.add(Group.objects.get(name=ROLE_GROUP[obj.role]))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    title = factory.Faker("job")
    account = factory.SubFactory("apps.accounts.tests.factories.AccountFactory")
