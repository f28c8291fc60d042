"""Hostile input: each gets a clear error, changes nothing and never a 500.

Oversized and malformed uploads to every import screen and to the import service the
commands call; HTML/JS in names on every admin page that shows them; SQL-like strings in
every changelist search and filter; formula injection on every CSV export; a hypothesis
fuzz of the CSV parser.
"""

from __future__ import annotations

import io
import json
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


# -- the API: every JSON endpoint, every header the code parses --------------------------------

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
WRITE_METHODS = ("post", "put", "patch")


def api_write_routes():
    """(url pattern, view class, method, action) for every write method the API's URL table
    routes: the router's viewsets and the plain views (CRM webhook, reports) alike, so an
    endpoint added later is walked without touching this file."""
    from sdrops.api_urls import urlpatterns

    for pattern in urlpatterns:
        cls = getattr(pattern.callback, "cls", None)
        if cls is None:
            continue
        actions = getattr(pattern.callback, "actions", None)
        if actions:
            for method, action in list(actions.items()):
                if method in WRITE_METHODS:
                    yield pattern, cls, method, action
        else:
            for method in WRITE_METHODS:
                if hasattr(cls, method):
                    yield pattern, cls, method, None


@pytest.fixture
def api_world(sdr, ops, ae):
    """One object of each kind an API detail route writes to, in the ops user's scope."""
    from apps.leads.services import lead_cycle_open
    from apps.meetings.tests.factories import MeetingFactory
    from apps.people.tests.factories import ContactFactory
    from apps.routing.services import return_file

    account = AccountFactory(domain="hostile-api.com")
    account_set_owner(account=account, to_rep=sdr, reason="distribution")
    contact = ContactFactory(account=account)
    lead_cycle_open(contact=contact, rep=sdr)
    return_file(account=account, rep=sdr, reason="bad_data", note="hostile", actor=sdr.user)
    MeetingFactory(contact=contact, sdr=sdr, ae=ae)
    from django.utils import timezone

    from apps.cadences.follow_ups import follow_up_create

    follow_up_create(rep=sdr, contact=contact, title="Hostile follow-up", due_at=timezone.now(), actor=None)
    return ops


def _route_url(pattern, cls, action, user) -> str:
    from django.urls import reverse
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    kwargs = {}
    if "pk" in pattern.pattern.regex.groupindex:
        view = cls(action=action, kwargs={}, format_kwarg=None)
        view.request = Request(APIRequestFactory().get("/"))
        view.request.user = user
        pk = view.get_queryset().values_list("pk", flat=True).order_by("pk").first()
        kwargs["pk"] = pk if pk is not None else 0
    if "slug" in pattern.pattern.regex.groupindex:
        kwargs["slug"] = "lead-response"
    return reverse(f"api:{pattern.name}", kwargs=kwargs)


def _signed_crm_headers(integration, body: bytes) -> dict:
    from apps.integrations.signing import standard_headers

    headers = standard_headers(secret=integration.secret, msg_id="hostile-1", body=body)
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_OBJECT], ids=["100,000 nested arrays", "50,000 nested objects"])
def test_deeply_nested_json_to_every_api_write_endpoint_is_a_400_in_the_one_error_shape(api_world, body):
    from django.test import Client

    from apps.integrations.models import Integration

    ops = api_world
    integration = Integration(name="hostile-crm", user=ops.user, scopes=["read", "write_accounts",
                                                                          "write_leads_activities"])
    token = integration.set_token()
    integration.save()
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")
    before = Account.objects.count(), Contact.objects.count()
    answered, wrong = [], []
    for pattern, cls, method, action in api_write_routes():
        url = _route_url(pattern, cls, action, ops.user)
        extra = _signed_crm_headers(integration, body) if pattern.name == "webhook-crm" else {}
        response = getattr(client, method)(url, data=body, content_type="application/json", **extra)
        if response.status_code == 405:
            continue  # the view defines the method for another route (e.g. a list-only POST)
        shape_ok = response.headers.get("Content-Type", "").startswith("application/json") and (
            set(response.json()) >= {"detail", "errors"} if response.status_code >= 400 else False)
        if response.status_code != 400 or not shape_ok:
            wrong.append((method.upper(), url, response.status_code, response.content[:200]))
        answered.append(url)
    assert not wrong, wrong
    assert len(answered) >= 12 and any("webhooks/crm" in url for url in answered), answered
    assert (Account.objects.count(), Contact.objects.count()) == before


def test_the_parser_itself_refuses_deep_json_with_a_message():
    from apps.integrations.jsonbody import MAX_DEPTH, JsonRefused, json_body_loads

    for body in (DEEP_JSON, DEEP_OBJECT, b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)):
        with pytest.raises(JsonRefused, match="nested too deeply"):
            json_body_loads(body)
    assert json_body_loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


# Every request header the code reads (the webhook's signature, id and timestamp headers, the
# old scheme's signature and Idempotency-Key, Authorization for tokens, Accept for the error
# page, X-Forwarded-For/-Proto for throttling and HTTPS, Content-Type for the parser) and values
# a client can send: non-ASCII (as a server decodes them, Latin-1), control characters,
# oversized. The WSGI server hands Django Latin-1 strings, so nothing above U+00FF.
PARSED_HEADERS = ["HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE", "HTTP_X_SDROPS_SIGNATURE",
                  "HTTP_IDEMPOTENCY_KEY", "HTTP_AUTHORIZATION", "HTTP_ACCEPT", "HTTP_X_FORWARDED_FOR",
                  "HTTP_X_FORWARDED_PROTO", "CONTENT_TYPE"]
HOSTILE_HEADER_VALUES = {
    "non-ASCII": "sha256=é" + "ÿ" * 63,
    "UTF-8 read as Latin-1": "Bearer sdr_Ã©Ã¨\u00a0",
    "control characters": "v1,AAAA\x00\x01\x7f",
    "oversized": "v1," + "A" * 20_000,
    "oversized non-ASCII": "ä" * 8_000,
}


def _api_targets(client_token, integration):
    body = json.dumps({"event": "account.upsert", "occurred_at": "2026-11-26T09:00:00Z",
                       "account": {"domain": "hostile-header.com"}}).encode()
    yield "post", "/api/webhooks/crm/", body, _signed_crm_headers(integration, body)
    yield "post", "/api/webhooks/crm/", body, {"HTTP_IDEMPOTENCY_KEY": "k", "HTTP_X_SDROPS_SIGNATURE": "sha256=0"}
    yield "get", "/api/accounts/", b"", {}
    yield "post", "/api/accounts/", b"{}", {}
    yield "get", "/api/reports/", b"", {}


@pytest.mark.parametrize("header", PARSED_HEADERS)
@pytest.mark.parametrize("label", list(HOSTILE_HEADER_VALUES))
def test_hostile_values_in_every_parsed_header_are_never_a_500(api_world, header, label):
    from django.test import Client

    from apps.integrations.models import InboundDelivery, Integration

    integration = Integration(name="hostile-headers", user=api_world.user, scopes=["read", "write_accounts"])
    token = integration.set_token()
    integration.save()
    value = HOSTILE_HEADER_VALUES[label]
    wrong = []
    for method, url, body, extra in _api_targets(token, integration):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", **extra, header: value}
        client = Client(raise_request_exception=False)
        kwargs = {"data": body, "content_type": headers.pop("CONTENT_TYPE", "application/json")} if method == "post" else {}
        response = getattr(client, method)(url, **kwargs, **headers)
        if response.status_code >= 500:
            wrong.append((method, url, response.status_code))
        elif response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
            assert {"detail", "errors"} <= set(response.json()), (url, response.content[:200])
    assert not wrong, wrong
    # A hostile signature, id or timestamp never gets a delivery applied (a hostile old-scheme
    # header next to valid Standard Webhooks headers is ignored: those decide).
    if header.startswith("HTTP_WEBHOOK"):
        assert not Account.objects.filter(domain="hostile-header.com").exists()
        assert not InboundDelivery.objects.exists()


# -- cells over the csv module's field limit, through every CSV reader -------------------------

BIG = 1_200_000  # 1.2 MB: over the csv module's default limit (128 KiB) and over ours (1 MiB)
OVERSIZED_CSV = {
    "a 1.2 MB header cell": lambda first: (f"{first},website,{'h' * BIG}\nAcme,acme.com,x\n".encode(), 1, 3),
    "a 1.2 MB quoted cell": lambda first: (f'{first},website\nAcme,acme.com\n"{"q" * BIG}",b.com\n'.encode(), 3, 1),
    "a quote never closed": lambda first: (f'{first},website\nAcme,acme.com\n"Bad,{"z" * BIG}\n'.encode(), 3, 1),
}


@pytest.mark.parametrize("label", list(OVERSIZED_CSV))
@pytest.mark.parametrize("screen, kind, first", [
    ("admin:accounts_account_import", "accounts", "name"),
    ("admin:people_contact_import", "contacts", "email"),
    ("admin:people_rep_import", "reps", "owner_name"),
])
def test_an_oversized_cell_on_every_import_screen_is_refused_naming_line_and_column(
    client, ops, settings, tmp_path, screen, kind, first, label
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(ops.user)
    client.raise_request_exception = False
    data, line, column = OVERSIZED_CSV[label](first)
    before = Account.objects.count(), Contact.objects.count(), Rep.objects.count()
    response = client.post(reverse(screen), {"file": SimpleUploadedFile("big.csv", data, content_type="text/csv"),
                                             "encoding": "utf-8"})
    assert response.status_code == 302, response.status_code
    record = ImportRecord.objects.latest("id")
    assert record.kind == kind and record.is_finished, record.status
    assert record.status == ImportRecord.Status.REFUSED
    assert any(f"Line {line}, column {column}" in message and "1,200,0" in message for message in record.messages), \
        record.messages
    page = client.get(response["Location"])
    assert page.status_code == 200 and f"Line {line}, column {column}" in page.content.decode()
    assert (Account.objects.count(), Contact.objects.count(), Rep.objects.count()) == before


def test_an_import_check_that_crashes_marks_its_record_failed_not_previewing_forever(client, ops, settings, tmp_path,
                                                                                      monkeypatch):
    from apps.accounts.imports import services

    settings.MEDIA_ROOT = tmp_path
    client.force_login(ops.user)

    def crash(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "import_run", crash)
    response = client.post(reverse("admin:accounts_account_import"), {
        "file": SimpleUploadedFile("a.csv", b"name,website\nAcme,acme.com\n", content_type="text/csv"),
        "encoding": "utf-8"})
    assert response.status_code == 302
    record = ImportRecord.objects.latest("id")
    assert record.status == ImportRecord.Status.FAILED and record.finished_at is not None
    assert "disk on fire" in " ".join(record.messages)


def test_signals_and_route_leads_read_through_the_same_module_and_refuse_oversized_cells(tmp_path):
    from django.core.management import CommandError, call_command

    from apps.icps.models import Signal

    signals = tmp_path / "signals.csv"
    signals.write_bytes(f'domain,type,occurred_at\nacme.com,demo_request,"{"s" * BIG}"\n'.encode())
    with pytest.raises(CommandError, match=r"Line 2, column 3 \(occurred_at\): the cell is 1,200,000 characters"):
        call_command("import_signals", str(signals), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Signal.objects.exists()
    leads = tmp_path / "leads.csv"
    leads.write_bytes(f'{"e" * BIG},first_name\nann@acme.com,Ann\n'.encode())
    with pytest.raises(CommandError, match=r"Line 1, column 1: the cell is 1,200,000 characters"):
        call_command("route_leads", str(leads), stdout=io.StringIO())
    assert not Contact.objects.exists()
    for module in ("apps.icps.signal_import", "apps.routing.management.commands.route_leads"):
        from pathlib import Path

        text = Path(__import__(module, fromlist=["x"]).__file__).read_text(encoding="utf-8")
        assert "import csv" not in text and "read_table" in text, module
