"""Hostile input: each gets a clear error, changes nothing and never a 500.

Oversized and malformed uploads to every import screen and to the import service the
commands call; HTML/JS in names on every admin page that shows them; SQL-like strings in
every changelist search and filter; formula injection on every CSV export; a hypothesis
fuzz of the CSV parser.
"""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.imports.reading import FileRefused, read_table
from apps.accounts.imports.services import import_run
from apps.accounts.models import Account, ImportRecord
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.people.models import Contact, Rep

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SQLISH = ["' OR '1'='1", "1; DROP TABLE accounts_account; --", "%' UNION SELECT password FROM auth_user --",
          "\\x00\x00", "')) OR 1=1 --", "%%%___", "' || pg_sleep(5) --"]


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("accounts.csv", b"0" * (200 * 2**20))  # 200 MB of zeros in ~200 KB
    return buffer.getvalue()


HOSTILE_FILES = {
    "10 MB of random bytes": lambda: os.urandom(10 * 2**20 + 17),
    "a zip bomb": zip_bomb,
    "cp1252 declared as UTF-8": lambda: "name,website\nCafé Müller,cafe-mueller.de\n".encode("cp1252"),
    "1,000,000 columns": lambda: (",".join(f"c{i}" for i in range(1_000_000)) + "\n" + "x," * 10 + "\n").encode(),
    "UTF-16 without saying so": lambda: "name,website\nAcme,acme.com\n".encode("utf-16"),
    "NUL bytes": lambda: b"name,website\nAc\x00me,acme.com\n",
    "only a header": lambda: b"name,website\n",
    "empty": lambda: b"",
}


@pytest.mark.parametrize("kind", ["accounts", "contacts", "reps"])
@pytest.mark.parametrize("label", list(HOSTILE_FILES))
def test_hostile_files_are_refused_by_the_import_service_with_a_message(kind, label):
    before = (Account.objects.count(), Contact.objects.count(), Rep.objects.count())
    outcome = import_run(kind=kind, data=HOSTILE_FILES[label](), dry_run=False)
    if label == "only a header":
        # Nothing to do, and said so (or refused for a column the kind needs).
        assert outcome.file_errors if outcome.refused else (outcome.total_rows == 0 and outcome.warnings)
    else:
        assert outcome.refused, label
        assert outcome.file_errors or outcome.errors, label
    text = " ".join(outcome.file_errors) + " ".join(str(e.as_dict()) for e in outcome.errors)
    assert len(text) < 20_000, "the message stays readable, not an echo of the file"
    assert (Account.objects.count(), Contact.objects.count(), Rep.objects.count()) == before


@pytest.mark.parametrize("label", ["10 MB of random bytes", "a zip bomb", "1,000,000 columns", "cp1252 declared as UTF-8"])
def test_hostile_uploads_to_every_import_screen_answer_with_a_refusal_not_a_500(client, ops, label, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(ops.user)
    client.raise_request_exception = False
    data = HOSTILE_FILES[label]()
    screens = [name for name in ("admin:accounts_account_import", "admin:people_contact_import", "admin:people_rep_import")]
    for screen in screens:
        before = Account.objects.count(), Contact.objects.count(), Rep.objects.count()
        response = client.post(reverse(screen), {
            "file": SimpleUploadedFile("upload.csv", data, content_type="text/csv"), "encoding": "utf-8",
        })
        assert response.status_code in (200, 302), (screen, label, response.status_code)
        if response.status_code == 302:
            record = ImportRecord.objects.latest("id")
            assert record.status == ImportRecord.Status.REFUSED and record.messages, (screen, label, record.status)
            page = client.get(response["Location"])
            assert page.status_code == 200
        assert (Account.objects.count(), Contact.objects.count(), Rep.objects.count()) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=2000),
    st.text(alphabet=st.sampled_from(list('name,website,domain;\t"\r\n=+-@ aé\x00')), max_size=400).map(str.encode),
))
def test_the_csv_parser_never_crashes_on_any_bytes(data):
    try:
        table = read_table(data, known=["name", "website", "domain"])
    except FileRefused as refusal:
        assert refusal.messages
        return
    for _line, _raw, _values in table.rows():
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(alphabet=st.sampled_from(list('name,website;"\n=+-@ ab.\x00é')), max_size=300))
def test_the_account_import_never_crashes_and_writes_only_when_not_refused(body):
    data = ("name,website\n" + body).encode()
    before = Account.objects.count()
    outcome = import_run(kind="accounts", data=data, dry_run=True)
    assert outcome.refused or outcome.total_rows >= 0
    assert Account.objects.count() == before  # a dry run writes nothing, whatever the file


def admin_changelists():
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin, reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_html_in_names_is_escaped_on_every_admin_page(admin_client, sdr):
    account = AccountFactory(name=XSS, industry=XSS)
    account_set_owner(account=account, to_rep=sdr, reason="distribution", note=XSS)
    sdr.owner_name = XSS
    sdr.save()
    from apps.people.tests.factories import ContactFactory

    contact = ContactFactory(account=account, first_name=XSS, last_name=XSS, title=XSS)
    ActivityFactory(account=account, contact=contact, subject=XSS)
    client = admin_client  # a superuser: every page of every model
    client.raise_request_exception = False
    pages = [url for _model, _ma, url in admin_changelists()]
    pages += [reverse("admin:accounts_account_change", args=[account.pk]),
              reverse("admin:people_contact_change", args=[contact.pk]),
              reverse("admin:people_rep_change", args=[sdr.pk]),
              reverse("admin:accounts_account_history", args=[account.pk])]
    shown = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        if response.status_code == 200 and hasattr(response, "content"):
            body = response.content.decode()
            assert '<script>alert("x")</script>' not in body, url
            assert "<img src=x onerror" not in body, url
            shown += "&lt;script&gt;alert(" in body
    assert shown >= 4, "the hostile names were on the pages, escaped"


def test_sql_like_strings_in_every_changelist_search_and_filter_change_nothing(admin_client, sdr):
    AccountFactory(name="Acme")
    client = admin_client
    client.raise_request_exception = False
    before = Account.objects.count()
    wrong = []
    for _model, model_admin, url in admin_changelists():
        params = []
        if model_admin.search_fields:
            params += [{"q": value} for value in SQLISH]
        for list_filter in model_admin.list_filter or []:
            field = list_filter if isinstance(list_filter, str) else (
                list_filter[0] if isinstance(list_filter, tuple) else getattr(list_filter, "parameter_name", None))
            if isinstance(field, str):
                params += [{f"{field}__exact": value} for value in SQLISH[:3]]
                params += [{field: value} for value in SQLISH[:3]]
        for query in params:
            status = client.get(url, query).status_code
            if status not in (200, 302):
                wrong.append((url, query, status))
    assert not wrong, wrong[:20]
    assert Account.objects.count() == before


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_every_admin_export_neutralises_formulas(client, ops, sdr):
    evil = ["=HYPERLINK(\"http://x\")", "+SUM(1)", "-2+3", "@cmd", "\t=1", "\r=1"]
    for i, name in enumerate(evil):
        account = AccountFactory(name=name, domain=f"evil{i}.com", industry=name)
        account_set_owner(account=account, to_rep=sdr, reason="distribution")
        from apps.people.tests.factories import ContactFactory

        ContactFactory(account=account, first_name=name, last_name=name, email=f"evil{i}@evil{i}.com")
    sdr.owner_name = "=EVIL()"
    sdr.save()
    client.force_login(ops.user)
    exports = []
    for _model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if isinstance(pattern, URLPattern) and pattern.name and pattern.name.endswith("_export") \
                    and not pattern.pattern.converters:
                exports.append(reverse(f"admin:{pattern.name}"))
    assert exports, "the admin has CSV exports"
    import csv

    for url in exports:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for row in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")):
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS), (url, cell)


LOOPBACK_AND_PRIVATE_URLS = [
    "http://127.0.0.1/hook", "http://127.1/hook", "http://2130706433/hook", "http://0x7f000001/hook",
    "http://0177.0.0.1/hook", "http://0.0.0.0/hook", "http://[::1]/hook", "http://[::]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:10.0.0.1]/hook", "http://10.1.2.3/hook",
    "http://172.16.0.1/hook", "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook", "http://[fd00::1]/hook", "http://100.64.0.1/hook", "http://224.0.0.1/hook",
    "http://localhost/hook", "http://localhost./hook", "http://api.localhost/hook", "http://LOCALHOST/hook",
]


@pytest.mark.parametrize("url", LOOPBACK_AND_PRIVATE_URLS)
def test_webhook_urls_at_loopback_or_private_networks_are_refused_unless_ops_allow_them(url):
    from apps.integrations.outbox import url_problem

    problem = url_problem(url, allow_private_network=False)
    assert problem and "private" in problem, url
    assert url_problem(url, allow_private_network=True) is None


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "localhost", "[::1]".strip("[]")])
def test_the_delivery_connection_refuses_them_too_whatever_the_spelling(host):
    from apps.integrations.outbox import RefusedAddress, _guarded_connector

    with pytest.raises(RefusedAddress):
        _guarded_connector(False)((host, 9))


@pytest.mark.parametrize("command", ["import_accounts", "import_contacts", "import_reps"])
@pytest.mark.parametrize("label", ["10 MB of random bytes", "a zip bomb", "1,000,000 columns", "NUL bytes"])
def test_import_commands_refuse_hostile_files_with_a_message_and_write_nothing(command, label, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "hostile.csv"
    path.write_bytes(HOSTILE_FILES[label]())
    before = Account.objects.count(), Contact.objects.count(), Rep.objects.count()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as refused:  # the commands exit 1 on a refused file
        call_command(command, str(path), stdout=out, stderr=err)
    assert refused.value.code == 1
    message = err.getvalue()
    assert message.strip() and len(message) < 20_000, (command, label)
    assert (Account.objects.count(), Contact.objects.count(), Rep.objects.count()) == before
