from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory
from apps.icps.models import Rule, Signal
from apps.icps.tests.factories import ICPFactory, RuleFactory, signal_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    acme = AccountFactory(domain="acme.com")
    globex = AccountFactory(domain="globex.com")
    DomainAliasFactory(account=globex, domain="globex.co.uk")
    return acme, globex


def write(tmp_path, text: str, encoding="utf-8"):
    path = tmp_path / "signals.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_creates_signals_by_domain_or_alias_and_rescores(tmp_path, accounts):
    acme, globex = accounts
    icp = ICPFactory()
    RuleFactory(icp=icp, category="readiness", condition=Rule.Condition.SIGNAL_VALUE_AT_LEAST,
                signal_type=signal_type("marketing_score"), minimum=60, points=15)
    path = write(
        tmp_path,
        "\ufeffDomain;Type;Occurred_At;Value;Date;Source;Extra\n"
        "https://www.ACME.com/pricing;pricing_page_visit;2026-01-10T09:30:00Z;;;web;x\n"
        "globex.co.uk;Marketing score;2026-01-11;1,200;;marketo;\n"
        "acme.com;competitor_renewal_date;2026-01-12 08:00;;2026-06-30;crm;\n",
    )
    out, err = StringIO(), StringIO()
    call_command("import_signals", path, stdout=out, stderr=err)
    assert "3 row(s) read, imported 3 new signal(s)" in out.getvalue()
    assert "Unknown columns ignored: Extra" in err.getvalue()
    assert Signal.objects.filter(account=acme).count() == 2
    score = Signal.objects.get(account=globex)
    assert score.value == 1200 and score.source == "marketo"
    assert Signal.objects.get(type__key="competitor_renewal_date").date.isoformat() == "2026-06-30"
    # Re-importing the same file adds nothing.
    out = StringIO()
    call_command("import_signals", path, stdout=out, stderr=StringIO())
    assert "imported 0 new signal(s)" in out.getvalue()
    assert Signal.objects.count() == 3


def test_import_is_all_or_nothing_with_line_numbered_errors(tmp_path, accounts):
    path = write(
        tmp_path,
        "domain,type,occurred_at,value,date,source\n"
        "acme.com,demo_request,2026-01-10,,,web\n"
        "nowhere.com,demo_request,2026-01-10,,,web\n"
        "\n"
        "acme.com,teleportation,yesterday,,,web\n"
        "acme.com,marketing_score,2026-01-10,lots,,web\n"
        "acme.com,get_back_to_me_date,2026-01-10,,,web\n"
        "not a domain,demo_request,2026-01-10,,,web\n",
    )
    with pytest.raises(CommandError) as error:
        call_command("import_signals", path, stdout=StringIO(), stderr=StringIO())
    message = str(error.value)
    assert "6 error(s), nothing imported" in message
    lines = message.splitlines()[1:]
    assert lines[0] == "Line 3, column domain: “nowhere.com” — no account has this domain or alias."
    assert lines[1].startswith("Line 5, column type: “teleportation” — expected a signal type: ")
    assert lines[2].startswith("Line 5, column occurred_at: “yesterday” — expected a date and time")
    assert lines[3] == "Line 6, column value: “lots” — expected a number."
    assert lines[4] == "Line 7, column date: “” — a Get back to me date signal needs a date."
    assert lines[5].startswith("Line 8, column domain: “not a domain”")
    assert Signal.objects.count() == 0


def test_import_refuses_missing_columns_and_bad_encoding(tmp_path, accounts):
    with pytest.raises(CommandError, match="Line 1: missing columns type, occurred_at"):
        call_command("import_signals", write(tmp_path, "domain\nacme.com\n"), stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match=r"not valid UTF-8: line 2 has the byte 0xe9"):
        call_command(
            "import_signals", write(tmp_path, "domain,type,occurred_at\nacmé.com,demo_request,2026-01-01\n", "latin-1"),
            stdout=StringIO(), stderr=StringIO(),
        )
    assert Signal.objects.count() == 0
