"""A big accounts file's second half checked by a copy of the process (apps.accounts.imports.halves):
the same rows, errors and outcome as checking the file in one pass, whichever way the halves go."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from apps.accounts.imports import accounts as account_imports
from apps.accounts.imports.accounts import AccountImporter
from apps.accounts.imports.halves import SecondHalf
from apps.accounts.imports.reading import FileRefused, read_table
from apps.accounts.imports.services import import_run
from apps.accounts.models import Account, DomainAlias, OwnershipEvent
from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory

pytestmark = pytest.mark.django_db

HEADER = "name,website,industry,employees,annual_revenue,country,segment,status,company_owner,domain_aliases\n"


def rows(n: int, start: int = 0) -> list[str]:
    return [f"Company {i},company{i}.com,Software,{i * 10},,US,SMB,,Sam Seller," for i in range(start, start + n)]


def messy(second_half: list[str]) -> str:
    """40 rows; the first half has errors of its own and an account with aliases."""
    first = rows(20)
    first[2] = "Aliased,aliased.com,,,,,,,Sam Seller,aliased.co.uk;aliased.de"
    first[5] = "Bad emp,bademp.com,,-5,,,,,,"
    first[8] = "Taken,taken-alias.com,,,,,,,,"  # another account's alias (found by the database check)
    return HEADER + "\n".join(first + second_half) + "\n"


@pytest.fixture
def halves(monkeypatch, sdr):
    """Fork from 10 rows up; records whether the copy's findings were taken."""
    holder = AccountFactory(name="Holder Corp", domain="holder.com")
    DomainAliasFactory(account=holder, domain="taken-alias.com")
    monkeypatch.setattr(account_imports, "PARALLEL_ABOVE", 10)
    taken = []
    merge_into = SecondHalf.merge_into

    def spy(self, result, aliases, seen):
        taken.append(merge_into(self, result, aliases, seen))
        return taken[-1]

    monkeypatch.setattr(SecondHalf, "merge_into", spy)
    return taken


def checked(text: str):
    validated = AccountImporter(read_table(text.encode(), known=AccountImporter.columns)).validate()
    return validated.rows, validated.errors, validated.total


def state():
    return (
        sorted(Account.objects.values_list("domain", "name", "employees", "owner_id", "import_digest")),
        sorted(DomainAlias.objects.values_list("account__domain", "domain")),
        sorted(OwnershipEvent.objects.values_list("account__domain", "to_rep_id", "reason")),
    )


def one_pass_and_halves(monkeypatch, text: str, **kwargs):
    results = []
    for limit in (10**9, 10):
        monkeypatch.setattr(account_imports, "PARALLEL_ABOVE", limit)
        sid = connection.savepoint()
        outcome = import_run(kind="accounts", data=text.encode(), **kwargs)
        results.append(((outcome.refused, outcome.new, outcome.updated, outcome.unchanged, outcome.rejected,
                         outcome.total_rows, [str(e) for e in outcome.errors], outcome.file_errors), state()))
        connection.savepoint_rollback(sid)
    return results


def test_halves_with_nothing_in_common_are_taken_as_checked_apart(monkeypatch, halves):
    second = rows(20, start=100)
    second[3] = "Bad rev,badrev.com,,,lots,,,,,"
    second[7] = "Nobody,nobody.com,,,,,,,Sam Sellr,"
    text = messy(second)
    assert len(checked(text)[0]) == 37 and halves == [True]  # "Taken" is found by the database check
    whole, split = one_pass_and_halves(monkeypatch, text, skip_bad_rows=True)
    assert split == whole and halves == [True, True]
    (refused, new, _updated, _unchanged, rejected, total, errors, _files), _rows = split
    assert (refused, new, rejected, total) == (False, 36, 4, 40)
    assert [int(error.split(',')[0].split()[1]) for error in errors] == [7, 10, 25, 29]


def test_a_domain_in_both_halves_is_checked_here(monkeypatch, halves):
    second = rows(20, start=100)
    second[4] = "Again,https://www.company7.com/,,,,,,,,"        # company7.com is in the first half
    second[9] = "Alias again,x.com,,,,,,,,aliased.de"             # an alias of the first half
    text = messy(second)
    monkeypatch.setattr(account_imports, "PARALLEL_ABOVE", 10**9)
    expected = checked(text)
    monkeypatch.setattr(account_imports, "PARALLEL_ABOVE", 10)
    assert checked(text) == expected and halves == [False]
    messages = [error.message for error in expected[1]]
    assert "company7.com appears twice in the file; it is already on line 9" in messages
    assert "aliased.de appears twice in the file; it is already on line 4" in messages
    whole, split = one_pass_and_halves(monkeypatch, text, skip_bad_rows=True)
    assert split == whole


def test_a_reimport_whose_rows_accounts_still_hold_is_checked_here(monkeypatch, halves):
    text = messy(rows(20, start=100))
    # Only the second half held: the copy's findings are read and refused.
    half_held = HEADER + "\n".join(rows(20, start=500) + rows(20, start=100)) + "\n"
    import_run(kind="accounts", data=(HEADER + "\n".join(rows(20, start=100)) + "\n").encode())
    assert halves == [True]
    outcome = import_run(kind="accounts", data=half_held.encode())
    assert (outcome.new, outcome.unchanged) == (20, 20) and halves == [True, False]
    Account.objects.exclude(domain="holder.com").delete()
    halves.clear()
    first = import_run(kind="accounts", data=text.encode(), skip_bad_rows=True)
    assert first.new == 38 and halves == [True]
    again = import_run(kind="accounts", data=text.encode(), skip_bad_rows=True)
    # The first half's rows are held by accounts: the copy's findings are not even read.
    assert (again.new, again.updated, again.unchanged) == (0, 0, 38) and halves == [True]
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    changed = messy(rows(20, start=100)).replace("Company 105,", "Company 105 Renamed,")
    whole, split = one_pass_and_halves(monkeypatch, changed, skip_bad_rows=True)
    assert split == whole and split[0][2] == 1  # one updated


def test_a_file_the_reader_refuses_in_the_second_half_is_refused_as_in_one_pass(monkeypatch, halves):
    broken = rows(20, start=100) + ['Broken,"broken.com' + "x" * (1 << 20) + '",,,,,,,,']
    text = messy(broken)
    with pytest.raises(FileRefused) as refused:
        checked(text)
    assert halves == [False] and "Line 42" in str(refused.value)
    whole, split = one_pass_and_halves(monkeypatch, text)
    assert split == whole and split[0][0] is True and split[0][7]


def test_no_copy_is_left_behind_when_the_first_half_fails(monkeypatch, halves):
    calls = []
    real = account_imports.normalize_owner_name

    def failing(name):
        calls.append(os.getpid())
        if len(calls) > 3 and os.getpid() == parent:
            raise ValueError("disk on fire")
        return real(name)

    parent = os.getpid()
    monkeypatch.setattr(account_imports, "normalize_owner_name", failing)
    with pytest.raises(ValueError, match="disk on fire"):
        checked(messy(rows(20, start=100)))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child process of this one remains
    assert halves == []
