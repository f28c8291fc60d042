"""Files and admin forms refuse a public suffix as a company's domain, with the line, column,
value and reason, and write nothing (the API, webhook and lead intake: apps/integrations)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.accounts.imports.services import import_run
from apps.accounts.models import Account, DomainAlias, WebmailDomain
from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import Signal
from apps.people.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def refusal(shown: str) -> str:
    return f"“{shown}” is a public suffix, not a company's domain (companies register names under it, like example.{shown})."


ACCOUNTS = (
    "name,website,domain,domain_aliases\n"
    "Kyoto Ward,,kyoto.jp,\n"                                   # plain rule
    "Uk Com,https://uk.com/about,,\n"                           # private section, from a URL
    "Cook,,Test.CK,\n"                                          # wildcard *.ck, mixed case
    "Gongsi,,公司.cn,\n"                                         # IDN in Unicode
    "Puny,,xn--55qx5d.cn,\n"                                    # the same in punycode
    "Future,,ex.futurecms.at,\n"                                # private wildcard
    "Aliased,,aliased-co.com,github.io; aliased.co.uk\n"        # an alias that is a suffix
    "School,,www.sch.uk,\n"                                     # *.sch.uk: not cut to sch.uk
    "Alaska,,K12.AK.US.,\n"                                     # trailing dot
    "Fine Co,,fine-co.com,\n"                                   # a good row: not written either
)


def test_accounts_file_with_public_suffixes_is_refused_row_by_row_and_nothing_written(ops):
    outcome = import_run(kind="accounts", data=ACCOUNTS.encode("utf-8"), actor=ops.user)
    assert outcome.refused
    tail = " A website or domain like example.com is expected."
    assert [(e.line, e.column, e.value, e.message) for e in outcome.errors] == [
        (2, "domain", "kyoto.jp", refusal("kyoto.jp") + tail),
        (3, "website", "https://uk.com/about", refusal("uk.com") + tail),
        (4, "domain", "Test.CK", refusal("test.ck") + tail),
        (5, "domain", "公司.cn", refusal("公司.cn") + tail),
        (6, "domain", "xn--55qx5d.cn", refusal("xn--55qx5d.cn") + tail),
        (7, "domain", "ex.futurecms.at", refusal("ex.futurecms.at") + tail),
        (8, "domain_aliases", "github.io", refusal("github.io") + tail),
        (9, "domain", "www.sch.uk", refusal("www.sch.uk") + tail),
        (10, "domain", "K12.AK.US.", refusal("k12.ak.us") + tail),
    ]
    assert Account.objects.count() == 0 and DomainAlias.objects.count() == 0


def test_accounts_file_keeps_what_the_exception_rules_make_registrable(ops):
    outcome = import_run(
        kind="accounts",
        data=(b"name,website\nCook Islands Co,https://www.ck/\nKobe City,http://www.city.kobe.jp\n"),
        actor=ops.user,
    )
    assert (outcome.refused, outcome.new) == (False, 2), outcome.errors
    assert sorted(Account.objects.values_list("domain", "matching_key")) == [
        ("city.kobe.jp", "city.kobe.jp"), ("www.ck", "www.ck"),
    ]


def test_contacts_file_refuses_an_email_or_account_domain_at_a_public_suffix(ops):
    AccountFactory(domain="acme-ok.com")
    outcome = import_run(
        kind="contacts",
        data=(
            b"first_name,last_name,email,account_domain\n"
            b"Jane,Doe,jane@kyoto.jp,\n"
            b"Joe,Roe,joe@acme-ok.com,uk.com\n"
            b"Ann,Ok,ann@acme-ok.com,\n"
        ),
        actor=ops.user,
    )
    assert outcome.refused
    assert [(e.line, e.column, e.value, e.message) for e in outcome.errors] == [
        (2, "email", "jane@kyoto.jp", refusal("kyoto.jp") + " An address at the company's domain is expected."),
        (3, "account_domain", "uk.com", refusal("uk.com") + " A domain like example.com is expected."),
    ]
    assert Contact.objects.count() == 0


EMPTY_INLINES = {
    f"{prefix}-{key}": 0
    for prefix in ["contacts", "signals", "score_history", "research_items"]
    for key in ["TOTAL_FORMS", "INITIAL_FORMS"]
}


def test_account_admin_refuses_a_public_suffix_as_domain_and_as_alias(client, ops):
    client.force_login(ops.user)
    form = {"name": "New", "segment": "smb", "status": "prospect", "technologies": "", **EMPTY_INLINES,
            "aliases-TOTAL_FORMS": 1, "aliases-INITIAL_FORMS": 0}
    response = client.post(reverse("admin:accounts_account_add"), {**form, "domain": "https://Kyoto.JP/about",
                                                                   "aliases-0-domain": "new-co.com"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["domain"] == [refusal("kyoto.jp")]
    response = client.post(reverse("admin:accounts_account_add"), {**form, "domain": "new-co.com",
                                                                   "aliases-0-domain": "other.wc.psl.hrsn.dev"})
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["domain"] == [refusal("other.wc.psl.hrsn.dev")]
    assert not Account.objects.filter(name="New").exists()


def test_domain_alias_admin_refuses_a_public_suffix(client, ops):
    account = AccountFactory(domain="aliased-co.com")
    client.force_login(ops.user)
    response = client.post(reverse("admin:accounts_domainalias_add"), {"account": account.pk, "domain": "食狮.公司.cn"})
    assert response.status_code == 302
    response = client.post(reverse("admin:accounts_domainalias_add"), {"account": account.pk, "domain": "公司.cn"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["domain"] == [refusal("公司.cn")]
    assert list(DomainAlias.objects.values_list("domain", flat=True)) == ["xn--85x722f.xn--55qx5d.cn"]


def test_webmail_admin_shows_a_refused_domain_on_the_field_instead_of_failing(client, ops):
    client.force_login(ops.user)
    response = client.post(reverse("admin:accounts_webmaildomain_add"), {"domain": "co.uk", "note": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["domain"] == [refusal("co.uk")]
    response = client.post(reverse("admin:accounts_webmaildomain_add"), {"domain": "Mail.Example-ISP.net", "note": ""})
    assert response.status_code == 302
    assert list(WebmailDomain.objects.values_list("domain", flat=True)) == ["mail.example-isp.net"]


def test_signals_file_refuses_a_public_suffix_domain(tmp_path):
    AccountFactory(domain="acme-ok.com")
    path = tmp_path / "signals.csv"
    path.write_text("domain,type,occurred_at\nacme-ok.com,demo_request,2026-01-10\nuk.com,demo_request,2026-01-10\n",
                    encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("import_signals", str(path), stdout=StringIO(), stderr=StringIO())
    assert str(error.value).splitlines()[1:] == [f"Line 3, column domain: “uk.com” — {refusal('uk.com')}"]
    assert Signal.objects.count() == 0
