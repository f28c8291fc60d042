"""Re-importing an unchanged accounts file skips each row's checks (issue 16 target 4), but
never an answer the full checks would give: what changed since (an edited account, a new
webmail domain, a moved owner, an alias given to another account) and what the rest of the
file says (a duplicate) still reach the same outcome and the same messages."""

from __future__ import annotations

import pytest

from apps.accounts.imports.accounts import AccountImporter
from apps.accounts.imports.reading import read_table
from apps.accounts.imports.services import import_run
from apps.accounts.models import Account, DomainAlias, WebmailDomain
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

HEADER = "name,website,industry,employees,annual_revenue,country,segment,status,company_owner,domain_aliases\n"
FILE = (HEADER + "Acme,https://www.acme.com/,Software,\"1,200\",100,US,SMB,prospect,Sam Seller,acme.co.uk;acme.de\n"
        + "Beta,beta.io,,,,,,,,\n")


def run(text: str, **kwargs):
    return import_run(kind="accounts", data=text.encode("utf-8"), **kwargs)


def counts(outcome):
    return outcome.new, outcome.updated, outcome.unchanged, outcome.rejected


def staged(text: str) -> list[int]:
    """The lines the checks pass on to staging (an unchanged row is not among them)."""
    return [row[0] for row in AccountImporter(read_table(text.encode(), known=AccountImporter.columns)).validate().rows]


def test_an_unchanged_file_stages_nothing_and_counts_every_row_unchanged(sdr):
    assert counts(run(FILE)) == (2, 0, 0, 0)
    assert Account.objects.exclude(import_digest=None).count() == 2
    assert staged(FILE) == []
    before = list(Account.objects.order_by("pk").values_list("pk", "updated_at", "owner_id"))
    assert counts(run(FILE)) == (0, 0, 2, 0)
    assert list(Account.objects.order_by("pk").values_list("pk", "updated_at", "owner_id")) == before
    # A file with other columns is another file: its rows are checked in full.
    assert staged("name,website\nAcme,acme.com\n") == [2]


def test_an_account_edited_since_is_checked_and_written_again(sdr):
    run(FILE)
    acme = Account.objects.get(domain="acme.com")
    acme.name = "Acme (renamed by ops)"
    acme.save()
    assert Account.objects.get(pk=acme.pk).import_digest is None  # the trigger cleared it
    Account.objects.filter(domain="beta.io").update(total_score=40)  # not a column the import writes
    assert Account.objects.get(domain="beta.io").import_digest is not None
    assert staged(FILE) == [2]
    assert counts(run(FILE)) == (0, 1, 1, 0)
    assert Account.objects.get(pk=acme.pk).name == "Acme"
    assert staged(FILE) == []  # written again from the row: its digest is back


def test_a_moved_owner_is_moved_back_as_before(sdr, other_sdr):
    run(FILE)
    acme = Account.objects.get(domain="acme.com")
    account_set_owner(account=acme, to_rep=other_sdr, reason="manual")
    assert counts(run(FILE)) == (0, 1, 1, 0)
    acme.refresh_from_db()
    assert acme.owner == sdr


def test_a_webmail_domain_added_since_refuses_the_row_with_its_message(sdr):
    run(FILE)
    WebmailDomain.objects.create(domain="beta.io")
    outcome = run(FILE)
    assert outcome.refused and [(e.line, e.column, e.message) for e in outcome.errors] == [
        (3, "website", "beta.io is a webmail domain; expected the company's own domain")]


def test_duplicates_in_the_file_get_the_same_message_whichever_row_is_unchanged(sdr):
    run(FILE)
    twice = FILE + "Acme again,acme.com,,,,,,,,\n"
    outcome = run(twice)
    assert [(e.line, e.column, e.message) for e in outcome.errors] == [
        (4, "website", "acme.com appears twice in the file; it is already on line 2")]
    first = HEADER + "Acme again,acme.com,,,,,,,,\n" + FILE.split("\n", 1)[1]
    outcome = run(first)
    assert [(e.line, e.column, e.message) for e in outcome.errors] == [
        (3, "website", "acme.com appears twice in the file; it is already on line 2")]
    same_row_twice = FILE + FILE.split("\n")[2] + "\n"
    outcome = run(same_row_twice)
    assert [(e.line, e.column, e.message) for e in outcome.errors] == [
        (4, "website", "beta.io appears twice in the file; it is already on line 3")]


def test_an_alias_given_to_another_account_since_is_reported(sdr):
    run(FILE)
    DomainAlias.objects.filter(domain="acme.de").delete()
    other = AccountFactory(domain="other.com")
    DomainAlias.objects.create(account=other, domain="acme.de", matching_key="acme.de")
    outcome = run(FILE)
    assert [(e.line, e.column, e.value) for e in outcome.errors] == [(2, "domain_aliases", "acme.de")]
    assert outcome.errors[0].message == f"acme.de already belongs to the account “{other.name}” (id {other.pk})"
