import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import Account, DomainAlias, OwnershipEvent, OwnershipReason, WebmailDomain
from apps.accounts.services import (
    account_create,
    account_domain_clean,
    account_owner_columns_sql,
    account_owners_record_created,
    account_owners_set,
    account_set_owner,
    domain_alias_add,
)
from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory

pytestmark = pytest.mark.django_db


def test_set_owner_writes_event_in_same_transaction(sdr, ops):
    account = AccountFactory()
    event = account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL, actor=ops.user, note="fix")
    account.refresh_from_db()
    assert account.owner == sdr
    assert account.sdr_owner == sdr
    assert account.owner_since is not None
    assert (event.from_rep, event.to_rep, event.reason, event.actor, event.note) == (None, sdr, "manual", ops.user, "fix")


def test_same_owner_twice_writes_nothing(sdr):
    account = AccountFactory()
    account_set_owner(account=account, to_rep=sdr, reason="import")
    assert account_set_owner(account=account, to_rep=sdr, reason="import") is None
    assert OwnershipEvent.objects.filter(account=account).count() == 1


def test_back_to_pool_keeps_sdr_attribution(sdr):
    account = AccountFactory()
    account_set_owner(account=account, to_rep=sdr, reason="distribution")
    event = account_set_owner(account=account, to_rep=None, reason="retrieval")
    account.refresh_from_db()
    assert account.owner is None and account.owner_since is None
    assert account.sdr_owner == sdr
    assert (event.from_rep, event.to_rep) == (sdr, None)


def test_ae_owner_does_not_become_sdr_owner(sdr, ae):
    account = AccountFactory()
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    account_set_owner(account=account, to_rep=ae, reason="manual")
    account.refresh_from_db()
    assert account.owner == ae and account.sdr_owner == sdr


def test_bulk_change_one_event_per_moved_account(sdr, other_sdr):
    a, b, c = AccountFactory.create_batch(3)
    account_set_owner(account=c, to_rep=other_sdr, reason="manual")
    events = account_owners_set(changes=[(a.pk, sdr.pk), (b.pk, other_sdr.pk), (c.pk, other_sdr.pk)], reason="import")
    assert {(e.account_id, e.to_rep_id) for e in events} == {(a.pk, sdr.pk), (b.pk, other_sdr.pk)}


def test_unknown_reason_and_account_refused(sdr):
    account = AccountFactory()
    with pytest.raises(ValidationError, match="Unknown ownership reason"):
        account_owners_set(changes=[(account.pk, sdr.pk)], reason="whim")
    with pytest.raises(ValidationError, match="No account with id 999999"):
        account_owners_set(changes=[(999999, sdr.pk)], reason="manual")
    assert not OwnershipEvent.objects.exists()


def test_failure_after_change_rolls_back_event(sdr):
    account = AccountFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        account_set_owner(account=account, to_rep=sdr, reason="manual")
        raise RuntimeError("job died")
    account.refresh_from_db()
    assert account.owner is None
    assert not OwnershipEvent.objects.exists()


def test_one_change_is_one_statement_and_the_missing_account_rolls_back_the_rest(sdr, django_assert_num_queries):
    a, b = AccountFactory.create_batch(2)
    with django_assert_num_queries(4):  # savepoint, lock + move + record, webhook subscriptions, release
        account_owners_set(changes=[(a.pk, sdr.pk), (b.pk, sdr.pk)], reason="manual")
    c = AccountFactory()
    with pytest.raises(ValidationError, match="No account with id 999999"):
        account_owners_set(changes=[(c.pk, sdr.pk), (999999, sdr.pk)], reason="manual")
    c.refresh_from_db()
    assert c.owner is None and not OwnershipEvent.objects.filter(account=c).exists()


def _insert_with_owner(name: str, domain: str, rep) -> int:
    """A bulk writer's insert of a new account with its first owner (as the import does)."""
    from django.db import connection
    from django.utils import timezone

    owner = account_owner_columns_sql(rep="r", at="%(now)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO accounts_account (name, website, domain, matching_key, keep_subdomain, industry, country, region,
                   technologies, segment, status, fit_score, opportunity_score, readiness_score, total_score, tier,
                   quadrant, created_at, updated_at, {", ".join(owner)})
            SELECT %(name)s, '', %(domain)s, %(domain)s, false, '', '', '', '{{}}', 'smb', 'prospect', 0, 0, 0, 0, '', '',
                   %(now)s, %(now)s, {", ".join(owner.values())}
              FROM (SELECT %(rep)s::bigint AS rep_id) v LEFT JOIN people_rep r ON r.id = v.rep_id
            RETURNING id
            """,
            {"name": name, "domain": domain, "now": timezone.now(), "rep": rep.pk if rep else None},
        )
        return cursor.fetchone()[0]


def _listen_after_commit(seen):
    """A receiver of apps.accounts.events.owners_changed that runs after commit."""
    from apps.accounts.events import owners_changed
    from sdrops.events import after_commit

    @after_commit
    def listener(sender, *, events, **kwargs):
        seen.extend(events)

    owners_changed.connect(listener, weak=False, dispatch_uid="test-listener")
    return listener


@pytest.fixture(autouse=True)
def _disconnect_test_listener():
    yield
    from apps.accounts.events import owners_changed

    owners_changed.disconnect(dispatch_uid="test-listener")


def test_accounts_created_with_an_owner_get_the_same_record_as_a_move_from_the_pool(
    sdr, ae, ops, django_capture_on_commit_callbacks, monkeypatch
):
    seen = []
    _listen_after_commit(seen)
    by_sdr = _insert_with_owner("By SDR", "by-sdr.com", sdr)
    by_ae = _insert_with_owner("By AE", "by-ae.com", ae)
    pooled = _insert_with_owner("Pooled", "pooled.com", None)
    with django_capture_on_commit_callbacks(execute=True):
        written = account_owners_record_created(
            account_ids=[by_sdr, by_ae, pooled], reason="import", actor=ops.user, note="CSV import"
        )
    assert written == 2
    # Listeners get the events as account_owners_set hands them over.
    assert [(e.account_id, e.from_rep_id, e.to_rep_id, e.reason, e.actor, e.note) for e in seen] == [
        (by_sdr, None, sdr.pk, "import", ops.user, "CSV import"),
        (by_ae, None, ae.pk, "import", ops.user, "CSV import"),
    ]
    stored = {e.pk: (e.account_id, e.from_rep_id, e.to_rep_id, e.reason, e.actor_id) for e in OwnershipEvent.objects.all()}
    assert stored == {e.pk: (e.account_id, None, e.to_rep_id, "import", ops.user.pk) for e in seen}
    # The owner columns are what account_owners_set gives an account taken from the pool.
    moved = AccountFactory()
    account_set_owner(account=moved, to_rep=sdr, reason="manual")
    created = Account.objects.get(pk=by_sdr)
    assert (created.owner, created.sdr_owner, created.owner_since is not None) == (sdr, sdr, True)
    assert (moved.owner, moved.sdr_owner) == (created.owner, created.sdr_owner)
    assert Account.objects.get(pk=by_ae).sdr_owner is None
    pool = Account.objects.get(pk=pooled)
    assert (pool.owner, pool.sdr_owner, pool.owner_since) == (None, None, None)
    with pytest.raises(ValidationError, match="Unknown ownership reason"):
        account_owners_record_created(account_ids=[by_sdr], reason="whim")


def test_owner_change_callbacks_run_after_commit(sdr, django_capture_on_commit_callbacks, monkeypatch):
    seen = []
    _listen_after_commit(seen)
    account = AccountFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        account_set_owner(account=account, to_rep=sdr, reason="manual")
    assert seen == []
    for callback in callbacks:
        callback()
    assert [e.account_id for e in seen] == [account.pk]


def test_domain_is_unique_across_accounts_and_aliases_in_the_database():
    holder = AccountFactory(domain="acme.com")
    DomainAliasFactory(account=holder, domain="acme.co.uk")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountFactory(domain="acme.co.uk")
    with pytest.raises(IntegrityError), transaction.atomic():
        DomainAliasFactory(account=AccountFactory(), domain="acme.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        DomainAliasFactory(account=AccountFactory(), domain="acme.co.uk")
    other = AccountFactory(domain="other.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=other.pk).update(domain="acme.co.uk")


def test_domain_clean_names_the_holder_and_refuses_webmail():
    holder = AccountFactory(name="Acme Corp", domain="acme.com")
    DomainAliasFactory(account=holder, domain="xbox.com")
    with pytest.raises(ValidationError, match="already belongs to the account “Acme Corp”"):
        account_domain_clean("https://www.xbox.com")
    assert account_domain_clean("acme.com", account=holder) == "acme.com"
    with pytest.raises(ValidationError, match="webmail"):
        account_domain_clean("someone@gmail.com")
    WebmailDomain.objects.create(domain="mail.example-isp.net")
    with pytest.raises(ValidationError, match="webmail"):
        account_domain_clean("mail.example-isp.net")


def test_account_create_and_alias(sdr, ops):
    account = account_create(name="Microsoft", domain="https://www.microsoft.com", owner=sdr, actor=ops.user)
    assert account.domain == "microsoft.com" and account.matching_key == "microsoft.com"
    assert account.ownership_events.get().reason == "manual"
    alias = domain_alias_add(account=account, domain="XBOX.com")
    assert alias.domain == "xbox.com" and alias.matching_key == "xbox.com"
    with pytest.raises(ValidationError, match="already an alias"):
        domain_alias_add(account=account, domain="xbox.com")
    with pytest.raises(ValidationError, match="already this account's domain"):
        domain_alias_add(account=account, domain="microsoft.com")
    with pytest.raises(ValidationError) as error:
        account_create(name="Dup", domain="microsoft.com")
    assert "already belongs to the account “Microsoft”" in error.value.message_dict["domain"][0]
    assert DomainAlias.objects.count() == 1


def test_account_create_and_field_updates_rescore_the_account():
    from apps.accounts.services import account_fields_update

    account = account_create(name="Scored", domain="scored.com")
    account.refresh_from_db()
    first = account.scored_at
    assert first is not None
    account = account_fields_update(account=account, actor=None, fields={"industry": "Banking"})
    account.refresh_from_db()
    assert account.industry == "Banking" and account.scored_at >= first


def test_an_account_given_only_its_website_gets_the_domain_from_it():
    # Without a domain no lead, signal or alias could ever match the account.
    account = account_create(name="Acme", website="https://www.Acme.com/about")
    assert account.domain == "acme.com" and account.website == "https://www.Acme.com/about"
    with pytest.raises(ValidationError) as error:
        account_create(name="Shared host", website="https://gmail.com/company")
    assert "webmail" in error.value.message_dict["website"][0]
    with pytest.raises(ValidationError) as error:
        account_create(name="Second Acme", website="acme.com")
    assert "already belongs to the account “Acme”" in error.value.message_dict["website"][0]
    # A typed domain wins over the website.
    assert account_create(name="Both", website="https://both.example.org", domain="both.com").domain == "both.com"
    assert Account.objects.count() == 2
