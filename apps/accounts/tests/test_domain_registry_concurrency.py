"""Two transactions racing to use one domain (as an account domain and as an alias): exactly one wins."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import Account, DomainAlias
from apps.accounts.tests.factories import AccountFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_account_and_alias_with_same_domain():
    holder = AccountFactory(domain="holder.com")
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(make):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                make()
                # Hold the transaction open briefly so both inserts overlap.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.2)")
            outcomes.append("ok")
        except IntegrityError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(lambda: Account.objects.create(name="Racer", domain="race.com"),)),
        threading.Thread(target=attempt, args=(lambda: DomainAlias.objects.create(account_id=holder.pk, domain="race.com"),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Account.objects.filter(domain="race.com").count() + DomainAlias.objects.filter(domain="race.com").count() == 1


@pytest.mark.django_db
def test_registry_follows_changes_and_deletes():
    account = AccountFactory(domain="before.com")
    DomainAlias.objects.create(account=account, domain="alias-one.com")
    Account.objects.filter(pk=account.pk).update(domain="after.com")
    AccountFactory(domain="before.com")  # freed by the change
    account.delete()
    AccountFactory(domain="alias-one.com")  # freed by the cascade
    AccountFactory(domain="after.com")
