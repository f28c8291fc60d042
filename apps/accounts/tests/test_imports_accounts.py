from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.accounts.csv_safety import neutralise_cell, unneutralise_cell
from apps.accounts.imports.exports import account_export_rows
from apps.accounts.imports.services import import_run
from apps.accounts.models import Account, DomainAlias, ImportRecord, OwnershipEvent, WebmailDomain
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files and rejects go to a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"

HEADER = "name,website,industry,employees,annual_revenue,country,segment,status,company_owner,domain_aliases\n"


def run(text: str, *, kind="accounts", encoding=None, data=None, **kwargs):
    return import_run(kind=kind, data=data if data is not None else text.encode("utf-8"), encoding=encoding, **kwargs)


def messages(outcome):
    return [(e.line, e.column, e.value, e.message) for e in outcome.errors]


def test_new_accounts_with_owner_aliases_and_thousands(sdr, ops):
    outcome = run(
        HEADER
        + 'Acme,https://www.Acme.com/about,Software,"1,200","2,500,000.50",US,Mid-Market,Active,  sam   SELLER ,acme.co.uk; acme.de\n'
        + "Pool Co,pool.io,,,,,,,,\n",
        actor=ops.user,
    )
    assert (outcome.refused, outcome.new, outcome.updated, outcome.unchanged, outcome.rejected) == (False, 2, 0, 0, 0)
    acme = Account.objects.get(domain="acme.com")
    assert (acme.name, acme.employees, str(acme.annual_revenue), acme.segment, acme.status) == (
        "Acme", 1200, "2500000.50", "mid_market", "active")
    assert acme.owner == sdr and acme.matching_key == "acme.com"
    assert sorted(acme.aliases.values_list("domain", flat=True)) == ["acme.co.uk", "acme.de"]
    pool = Account.objects.get(domain="pool.io")
    assert pool.owner is None and pool.segment == "smb" and pool.status == "prospect"
    event = OwnershipEvent.objects.get(account=acme)
    assert (event.from_rep, event.to_rep, event.reason, event.actor) == (None, sdr, "import", ops.user)
    assert not OwnershipEvent.objects.filter(account=pool).exists()


def test_reimport_same_file_writes_nothing(sdr, ops, django_assert_max_num_queries):
    text = HEADER + "Acme,acme.com,Software,10,100,US,SMB,prospect,Sam Seller,acme.co.uk\nBeta,beta.io,,,,,,,,\n"
    run(text, actor=ops.user)
    before = list(Account.objects.order_by("pk").values_list("pk", "updated_at"))
    with django_assert_max_num_queries(20):
        outcome = run(text, actor=ops.user)
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 0, 2)
    assert list(Account.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert OwnershipEvent.objects.count() == 1 and DomainAlias.objects.count() == 1


def test_changes_are_updates_and_owner_moves_write_events(sdr, other_sdr, ops):
    run(HEADER + "Acme,acme.com,Software,10,,,,,Sam Seller,\n", actor=ops.user)
    outcome = run(HEADER + "Acme Inc,acme.com,Software,10,,,,,Olga Other,acme.io\n", actor=ops.user)
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 1, 0)
    acme = Account.objects.get(domain="acme.com")
    assert acme.name == "Acme Inc" and acme.owner == other_sdr
    latest = acme.ownership_events.first()
    assert (latest.from_rep, latest.to_rep, latest.reason, latest.actor) == (sdr, other_sdr, "import", ops.user)
    # An empty company_owner never takes an account out of a book.
    run(HEADER + "Acme Inc,acme.com,Software,10,,,,,,acme.io\n", actor=ops.user)
    acme.refresh_from_db()
    assert acme.owner == other_sdr


def test_every_row_error_is_reported_and_nothing_written(sdr, other_sdr, manager):
    holder = AccountFactory(name="Holder Corp", domain="holder.com")
    DomainAliasFactory(account=holder, domain="holder-alias.com")
    WebmailDomain.objects.create(domain="corpmail.net")
    text = HEADER + "\n".join([
        "Good,good.com,,,,,,,,",                       # 2
        ",noname.com,,,,,,,,",                         # 3 missing name
        "No Domain,,,,,,,,,",                          # 4 missing domain
        "Bad Domain,not a domain,,,,,,,,",             # 5
        "Webmail,gmail.com,,,,,,,,",                   # 6
        "Alias Taken,holder-alias.com,,,,,,,,",        # 7 domain is another account's alias
        "Dup,https://www.good.com,,,,,,,,",            # 8 same domain as line 2
        "Owner,owner.com,,,,,,,Sam Sellr,",            # 9 unknown owner
        "Emp,emp.com,,-5,,,,,,",                       # 10
        "Rev,rev.com,,,lots,,,,,",                     # 11
        "Seg,seg.com,,,,,Huge,,,",                     # 12
        "Stat,stat.com,,,,,,sleeping,,",               # 13
        "AliasHeld,aliasheld.com,,,,,,,,holder.com",   # 14 alias is another account's domain
        "Extra webmail,corp.example.org,,,,,,,,x.corpmail.net",  # 15 admin-added webmail
    ]) + "\n"
    outcome = run(text)
    assert outcome.refused and outcome.rejected == 14 - 1 - 0
    got = messages(outcome)
    lines = {line for line, *_ in got}
    assert 2 not in lines
    by_line = {line: (column, value, message) for line, column, value, message in got}
    assert by_line[3] == ("name", "", "an account name is required")
    assert by_line[4][0] == "website" and "a website or domain is required" in by_line[4][2]
    assert by_line[5][:2] == ("website", "not a domain") and "is not a domain" in by_line[5][2]
    assert by_line[6] == ("website", "gmail.com", "gmail.com is a webmail domain; expected the company's own domain")
    assert by_line[7][2] == f"holder-alias.com already belongs to the account “Holder Corp” (id {holder.pk}) as an alias"
    assert by_line[8][2] == "good.com appears twice in the file; it is already on line 2"
    assert by_line[9][0] == "company_owner"
    assert by_line[9][2].startswith("no rep has this owner name; closest owner names: Sam Seller")
    assert by_line[10] == ("employees", "-5", "expected a non-negative whole number (like 250 or 1,200)")
    assert by_line[11][0] == "annual_revenue" and "non-negative number" in by_line[11][2]
    assert by_line[12][0] == "segment" and by_line[12][2] == "unknown segment; expected one of: SMB, Mid-Market, Enterprise, PubSec"
    assert by_line[13][0] == "status" and by_line[13][2] == "unknown status; expected one of: Prospect, Active, Customer, Disqualified"
    assert by_line[14][:2] == ("domain_aliases", "holder.com") and "“Holder Corp”" in by_line[14][2]
    assert by_line[15][:2] == ("domain_aliases", "x.corpmail.net") and "webmail" in by_line[15][2]
    assert Account.objects.count() == 1  # only the holder: all-or-nothing
    assert "line 8, column website (“https://www.good.com”)" in str(outcome.errors[[e.line for e in outcome.errors].index(8)])


def test_skip_bad_rows_imports_good_rows_and_builds_rejects():
    text = "name;website;employees\nGood;good.com;5\nBad;bad.com;many\n=Evil;evil.com;1,5\n"
    outcome = run(text, skip_bad_rows=True)
    assert (outcome.refused, outcome.new, outcome.rejected) == (False, 1, 2)
    assert list(Account.objects.values_list("domain", flat=True)) == ["good.com"]
    rejects = outcome.rejects_csv.splitlines()
    assert rejects[0] == "name;website;employees;error"
    assert rejects[1].startswith("Bad;bad.com;many;employees: expected a non-negative whole number")
    assert rejects[2].startswith("'=Evil;evil.com;1,5;employees:")
    # The rejects file, fixed, imports.
    fixed = outcome.rejects_csv.replace("many", "7").replace("1,5", "15")
    again = run(fixed)
    assert (again.refused, again.new) == (False, 2)
    assert Account.objects.get(domain="evil.com").name == "=Evil"


def test_dry_run_counts_and_writes_nothing():
    outcome = run(HEADER + "A,a.com,,,,,,,,\nB,b.com,,,,,,,,\n", dry_run=True)
    assert (outcome.new, outcome.refused) == (2, False)
    assert not Account.objects.exists()


def test_bom_tab_delimiter_header_case_and_unknown_columns():
    text = "\ufeff Name \tWEBSITE\tColour\nTabby\ttabby.com\tred\n"
    outcome = run(text)
    assert outcome.new == 1 and Account.objects.get().name == "Tabby"
    assert outcome.warnings[0].startswith("Ignored unknown column: Colour.")


def test_semicolon_delimiter_with_quoted_commas():
    outcome = run('name;website;employees\n"Smith, Jones & Co";smith.com;"1,200"\n')
    assert outcome.new == 1
    account = Account.objects.get()
    assert (account.name, account.employees) == ("Smith, Jones & Co", 1200)


def test_not_utf8_is_refused_with_line_unless_encoding_given():
    data = "name,website\nAcme,acme.com\nCafé,cafe.com\n".encode("cp1252")
    outcome = run("", data=data)
    assert outcome.refused and not Account.objects.exists()
    assert outcome.file_errors[0] == "The file is not valid UTF-8: line 3 has the byte 0xe9, which UTF-8 cannot read."
    outcome = run("", data=data, encoding="cp1252")
    assert outcome.new == 2 and Account.objects.filter(name="Café").exists()


def test_missing_required_column_refuses_file():
    outcome = run("name,industry\nAcme,Software\n")
    assert outcome.refused
    assert outcome.file_errors == ["The account file needs a “website” or “domain” column; its header has: name, industry."]


def test_export_round_trips_with_zero_changes(sdr, ops):
    run(
        HEADER
        + 'Acme,https://acme.com,Software,"1,200",1000000,US,Enterprise,customer,Sam Seller,acme.de;acme.co.uk\n'
        + '"-Minus, Inc",minus.io,@tech,,,,,,,\n'
        + "Pool,pool.io,,,,,PubSec,disqualified,,\n",
        actor=ops.user,
    )
    import csv
    import io

    from apps.accounts.csv_safety import csv_writer

    out = io.StringIO()
    writer = csv_writer(out)
    for row in account_export_rows(Account.objects.all()):
        writer.writerow(row)
    exported = out.getvalue()
    assert "'-Minus, Inc" in exported and "'@tech" in exported
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["name", "website", "domain", "industry", "employees", "annual_revenue", "country", "segment",
                       "status", "company_owner", "domain_aliases"]
    assert ["Acme", "https://acme.com", "acme.com", "Software", "1200", "1000000.00", "US", "Enterprise", "Customer",
            "Sam Seller", "acme.co.uk;acme.de"] in rows
    events = OwnershipEvent.objects.count()
    outcome = run(exported, actor=ops.user)
    assert (outcome.new, outcome.updated, outcome.unchanged, outcome.rejected) == (0, 0, 3, 0)
    assert OwnershipEvent.objects.count() == events


def test_neutralise_cell():
    for dangerous in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]:
        assert neutralise_cell(dangerous) == "'" + dangerous
        assert unneutralise_cell(neutralise_cell(dangerous)) == dangerous
    assert neutralise_cell("Acme") == "Acme" and neutralise_cell(None) == "" and neutralise_cell(12) == "12"
    assert unneutralise_cell("'quoted") == "'quoted" and unneutralise_cell("'") == "'"


def test_command_exit_codes_counts_and_rejects(tmp_path, capsys, sdr, ops):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "Acme,acme.com,,,,,,,Sam Seller,\n")
    call_command("import_accounts", str(good), "--user", ops.user.username)
    out = capsys.readouterr()
    assert "new=1 updated=0 unchanged=0 rejected=0" in out.out
    record = ImportRecord.objects.get()
    assert (record.source, record.status, record.new_count, record.created_by) == ("command", "done", 1, ops.user)
    assert OwnershipEvent.objects.get().actor == ops.user

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Beta,beta.com,,,,,,,,\nGamma,gmail.com,,,,,,,,\n")
    rejects = tmp_path / "rejects.csv"
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_accounts", str(bad), "--rejects", str(rejects))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Error: line 3, column website (“gmail.com”): gmail.com is a webmail domain" in err
    assert not Account.objects.filter(domain="beta.com").exists()
    assert rejects.read_text().splitlines()[1].startswith("Gamma,gmail.com")

    call_command("import_accounts", str(bad), "--dry-run", "--skip-bad-rows")
    assert not Account.objects.filter(domain="beta.com").exists()
    call_command("import_accounts", str(bad), "--skip-bad-rows")
    assert Account.objects.filter(domain="beta.com").exists()


def test_export_command_writes_import_columns(tmp_path, sdr):
    account = AccountFactory(name="=HYPERLINK(1)", domain="hyper.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    target = tmp_path / "out.csv"
    call_command("export_accounts", str(target))
    lines = target.read_text().splitlines()
    assert lines[0].startswith("name,website,domain,")
    assert lines[1].startswith("'=HYPERLINK(1),,hyper.com,") and lines[1].endswith(",Sam Seller,")


def test_imported_accounts_are_scored_once_the_import_commits(django_capture_on_commit_callbacks, monkeypatch):
    """New and changed accounts get their ICP scores from a background job queued after
    commit (settings.test runs django-q2 tasks synchronously); a dry run queues nothing."""
    from apps.icps import services as icp_services
    from apps.icps.tests.factories import ICPFactory, RuleFactory

    RuleFactory(icp=ICPFactory(name="Software"), condition="industry_in", values=["Software"], points=30)
    text = HEADER + "Soft,soft.io,Software,,,,,,,\nHard,hard.io,Hardware,,,,,,,\n"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(text, dry_run=True)
    assert callbacks == [] and not Account.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        run(text)
    soft, hard = Account.objects.get(domain="soft.io"), Account.objects.get(domain="hard.io")
    assert (soft.fit_score, soft.matched_icp.name, soft.scored_at is not None) == (30, "Software", True)
    assert (hard.fit_score, hard.scored_at is not None) == (0, True)
    # A changed industry is rescored too; an unchanged file queues nothing.
    with django_capture_on_commit_callbacks(execute=True):
        run(HEADER + "Soft,soft.io,Hardware,,,,,,,\nHard,hard.io,Hardware,,,,,,,\n")
    soft.refresh_from_db()
    assert soft.fit_score == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(HEADER + "Soft,soft.io,Hardware,,,,,,,\nHard,hard.io,Hardware,,,,,,,\n")
    assert callbacks == []
    # A big import queues the whole rescoring rather than a list of ids.
    queued = []
    monkeypatch.setattr(icp_services, "RESCORE_IDS_LIMIT", 1)
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kwargs: queued.append((func, args)))
    with django_capture_on_commit_callbacks(execute=True):
        run(HEADER + "One,one.io,,,,,,,,\nTwo,two.io,,,,,,,,\n")
    assert queued == [("apps.icps.tasks.rescore_all_accounts", ("CSV import",))]


def test_an_unclosed_quote_deep_in_a_big_file_is_refused_with_its_line():
    """A quote opened and never closed makes the rest of the file one cell; over the cell
    limit the file is refused, naming the line and column where the cell starts."""
    good = "".join(f"Company {n},company{n}.com,,,,,,,,\n" for n in range(5))
    tail = "".join(f"More {n},more{n}.com,,,,,,,,\n" for n in range(60_000))  # > 1 MiB after the quote
    outcome = run(HEADER + good + 'Broken,"broken.com,,,,,,,,\n' + tail)
    assert outcome.refused and not Account.objects.exists()
    assert outcome.file_errors[0].startswith("Line 7, column 2 (website): the cell is ")
    assert "check the quotes on that line" in outcome.file_errors[1]
