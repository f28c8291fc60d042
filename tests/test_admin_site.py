import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_jobs_page_for_ops_says_when_no_cluster_runs(client, ops):
    client.force_login(ops.user)
    response = client.get(reverse("admin:jobs"))
    assert response.status_code == 200
    assert b"No django-q2 cluster is running" in response.content
    assert b"Background jobs" in client.get(reverse("admin:index")).content


def test_jobs_page_writes_djangos_type_labels_and_task_counts(client, ops):
    """The jobs page translates each schedule type once and counts successes and failures in
    one statement (speed): the words and numbers are those of get_schedule_type_display and
    django-q2's Success and Failure managers."""
    from django.utils import timezone
    from django_q.models import Failure, Schedule, Success, Task

    for n, (kind, _label) in enumerate(Schedule.TYPE):
        Schedule.objects.create(name=f"job {n}", func="math.floor", schedule_type=kind, cron="0 * * * *" if kind == Schedule.CRON else None)
    for n, success in enumerate([True, True, False]):
        Task.objects.create(id=f"t{n}", name=f"t{n}", func="math.floor", started=timezone.now(), stopped=timezone.now(),
                            success=success)
    client.force_login(ops.user)
    html = client.get(reverse("admin:jobs")).content.decode()
    for schedule in Schedule.objects.all():
        assert f"<td>{schedule.get_schedule_type_display()}" in html
    assert f"Successful (kept): {Success.objects.count()} · Failed (kept): {Failure.objects.count()}" in html
    assert "Successful (kept): 2 · Failed (kept): 1" in html


def test_jobs_page_refused_to_sdr(client, sdr):
    client.force_login(sdr.user)
    assert client.get(reverse("admin:jobs")).status_code == 403
    assert b"Background jobs" not in client.get(reverse("admin:index")).content


def test_root_redirects_to_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/admin/"



def test_app_list_from_one_permission_look_is_djangos_app_list(rf, ops, sdr, manager):
    """SdropsAdminSite answers the app list's permission questions from one look at the user's
    permissions (speed, issue 16): the menus must list exactly what Django's own checks give."""
    from django.contrib import admin
    from django.contrib.admin import AdminSite

    from sdrops.admin_permissions import backends_are_plain

    assert backends_are_plain()
    for rep in (ops, sdr, manager):
        request = rf.get("/admin/")
        request.user = rep.user
        quick = admin.site._build_app_dict(request)
        assert request.user is rep.user and quick
        request.user = type(rep.user).objects.get(pk=rep.user.pk)  # no permission cache carried over
        assert AdminSite._build_app_dict(admin.site, request) == quick, rep.role
        # URLs and names are worked out once per process (sdrops/admin_app_list.py): the second
        # build, and one app's list, are still Django's.
        assert admin.site._build_app_dict(request) == quick, rep.role
        assert admin.site._build_app_dict(request, "accounts") == AdminSite._build_app_dict(admin.site, request, "accounts")
    # Under another script prefix (a site mounted below a path), the URLs follow it.
    from django.urls import set_script_prefix

    request = rf.get("/admin/")
    request.user = ops.user
    set_script_prefix("/crm/")
    try:
        prefixed = admin.site._build_app_dict(request)
        assert prefixed == AdminSite._build_app_dict(admin.site, request)
        assert prefixed["accounts"]["app_url"].startswith("/crm/admin/")
    finally:
        set_script_prefix("/")


def test_every_admin_page_reads_the_configuration_version_once_for_its_menus(client, ops):
    """The app list's permission sets and settings singletons ("Add" links) come from the
    per-process cache under one read of the version (sdrops.config_cache)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(ops.user)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:people_contact_changelist")).status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    # One read for the whole GET request: permission checks, menus and template tags share it
    # (ConfigVersionMiddleware).
    assert sum("sdrops_configversion" in sql for sql in statements) == 1, statements
    assert not [sql for sql in statements if "routing_rulesofengagement" in sql or "icps_scoringsettings" in sql], statements


def test_quick_row_checkbox_is_djangos_checkbox(sdr):
    """QuickChangelistMixin writes the row checkbox itself (no form renderer per row): the
    markup is CheckboxInput's, escaping included."""
    from django.contrib import admin

    from apps.accounts.models import Account
    from apps.accounts.tests.factories import AccountFactory

    account = AccountFactory(name='Ac"me <b> & Co', domain="acme-quote.com")
    model_admin = admin.site._registry[Account]
    assert model_admin.action_checkbox(account) == admin.ModelAdmin.action_checkbox(model_admin, account)


def test_daily_changelists_with_quick_rows_are_djangos_rows(client, ops, sdr, ae, monkeypatch):
    """The changelists each role opens daily take their rows from sdrops.admin_changelist
    (speed, issue 17): the table must be the one Django's `result_list` makes, checkbox too."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib import admin
    from django.utils import timezone

    from apps.accounts.tests.factories import AccountFactory, ActivityFactory
    from apps.meetings.models import Opportunity
    from apps.meetings.selectors import stage_by_code
    from apps.meetings.services import opportunity_create
    from apps.meetings.tests.factories import MeetingFactory
    from apps.people.models import Contact
    from apps.people.tests.factories import ContactFactory
    from apps.routing.services import lead_route
    from apps.routing.tests.factories import rule_with
    from sdrops import admin_changelist

    account = AccountFactory(name="Acme <b>", domain="acme.com", owner=sdr,
                             owner_since=dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC))
    contact = ContactFactory(account=account, first_name="Ann & Co", email="ann@acme.com")
    ActivityFactory(account=account, contact=contact, rep=sdr, subject="Call <3")
    MeetingFactory(contact=contact, account=account, sdr=sdr, ae=ae,
                   scheduled_at=timezone.now() - dt.timedelta(days=1))
    rule_with([sdr])
    lead_route(contact=ContactFactory(email="lead@newco-quick.com", account=None, source=Contact.Source.INBOUND))
    # Money and a date on the opportunity list: their columns have their own quick formatting.
    opportunity = opportunity_create(account=account, owner=ae, sourcing_sdr=sdr, actor=ae.user,
                                     stage=stage_by_code("meeting_completed"), amount=Decimal("1234567.5"))
    Opportunity.objects.filter(pk=opportunity.pk).update(close_date=dt.date(2026, 12, 24))
    client.force_login(ops.user)

    def rows(url):
        html = client.get(url).content.decode()
        return html[html.index('<table id="result_list">'):html.index("</table>")] if 'id="result_list"' in html else ""

    names = ["accounts_account", "people_contact", "accounts_activity", "meetings_meeting", "meetings_opportunity",
             "routing_routingdecision", "routing_returnrequest", "cadences_enrolment"]
    seen = set()
    for name in names:
        url = reverse(f"admin:{name}_changelist")
        quick = rows(url)
        if quick:
            seen.add(name)
        with monkeypatch.context() as patched:
            patched.setattr(admin_changelist, "quick_results", lambda cl: list(admin_changelist.results(cl)))
            patched.setattr(admin_changelist.QuickChangelistMixin, "action_checkbox", admin.ModelAdmin.action_checkbox)
            assert rows(url) == quick, name
    assert {"accounts_account", "people_contact", "accounts_activity", "meetings_meeting", "meetings_opportunity",
            "routing_routingdecision"} <= seen, seen
    assert "2026-12-24" in rows(reverse("admin:meetings_opportunity_changelist"))
    # The account list's timestamps (owner since) come from the strftime form of the format.
    assert timezone.localtime(account.owner_since).strftime("%Y-%m-%d %H:%M") in rows(reverse("admin:accounts_account_changelist"))
    contacts = rows(reverse("admin:people_contact_changelist"))
    assert "Ann &amp; Co" in contacts and 'class="action-select"' in contacts


def test_a_managers_scope_is_asked_once_per_page_and_afresh_outside_requests(client, manager, sdr, team):
    """scoped_rep_ids is a query for a manager; one GET asks it once (sdrops.access
    ScopeMemoMiddleware) however many boxes and menus need it; outside a request (services,
    tasks) every call asks again, so a rep moved between teams counts at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.people.models import Rep
    from apps.people.tests.factories import RepFactory
    from sdrops.access import scoped_rep_ids

    client.force_login(manager.user)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:index")).status_code == 200
    scope = [q["sql"] for q in queries.captured_queries if 'LEFT OUTER JOIN "people_team"' in q["sql"]
             and '"people_team"."manager_id"' in q["sql"]]
    assert len(scope) == 1, scope
    before = scoped_rep_ids(user=manager.user)
    newcomer = RepFactory(role=Rep.Role.SDR, team=team)
    assert scoped_rep_ids(user=manager.user) == before | {newcomer.pk}


def test_app_list_and_menus_are_kept_per_user_until_a_permission_changes(client, rf, sdr, ops):
    """Every admin page's app list and the header's menus are kept per user under the
    configuration version (speed, issue 17 item 6): what a user gets is what Django builds, and
    a permission granted since shows on the next page."""
    from django.contrib import admin
    from django.contrib.admin import AdminSite
    from django.contrib.auth.models import Permission

    def fresh_request(user):
        request = rf.get("/admin/")
        request.user = type(user).objects.get(pk=user.pk)
        return request

    for rep in (sdr, ops):
        request = fresh_request(rep.user)
        kept = admin.site.get_app_list(request)
        assert kept == AdminSite.get_app_list(admin.site, fresh_request(rep.user)), rep.role
        assert admin.site.get_app_list(fresh_request(rep.user)) is kept  # the kept list, not a rebuild

    client.force_login(sdr.user)
    home = client.get(reverse("admin:index")).content.decode()
    assert 'id="workspace-nav"' in home and "Background jobs" not in home
    sdr.user.user_permissions.add(Permission.objects.get(codename="view_schedule", content_type__app_label="django_q"))
    home = client.get(reverse("admin:index")).content.decode()
    assert "Background jobs" in home
    request = fresh_request(sdr.user)
    assert admin.site.get_app_list(request) == AdminSite.get_app_list(admin.site, fresh_request(sdr.user))
    assert "django_q" in {app["app_label"] for app in admin.site.get_app_list(request)}
    # The menus are the user's: another user's page does not show them.
    client.force_login(ops.user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_select_options_are_djangos_markup():
    """templates/django/forms/widgets/select.html writes the options in one pass (speed): the
    markup is Django's, escaping, groups, selected and boolean attributes included."""
    from django import forms
    from django.forms.renderers import DjangoTemplates

    class Form(forms.Form):
        plain = forms.ChoiceField(choices=[("", "---"), ("x<", "X & y"), ("Group", [("1", "one"), ("2", 'two "q"')])],
                                  initial="2")
        many = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two")], initial=["1", "2"], required=False,
                                         widget=forms.SelectMultiple(attrs={"data-x": "y", "disabled": True}))
        maybe = forms.NullBooleanField()

    def html(form) -> str:
        # Django's option template ends in a newline the one-pass writer leaves out.
        return "".join(str(field) for field in form).replace("\n\n", "\n")

    quick = html(Form())
    assert quick == html(Form(renderer=DjangoTemplates()))
    assert '<option value="x&lt;">X &amp; y</option>' in quick and "<option value=\"2\" selected>" in quick


def test_quick_query_strings_are_djangos():
    """QuickChangeList joins query strings from pieces kept per page (speed): each one must be
    the string Django's ChangeList.get_query_string makes, for every kind of parameter."""
    from django.contrib.admin.views.main import ChangeList

    from sdrops.admin_changelist import QuickChangeList

    cases = [
        ({}, None, None),
        ({"o": ["-8"], "tier": ["A"]}, {"owner__id__exact": 12}, None),
        ({"o": ["-8"], "tier": ["A"]}, {"tier": None, "p": 2}, ["owner__"]),
        ({"q": ["Café & Co/ü"], "status": ["active", "customer"]}, {"segment": "mid_market"}, ["status"]),
        ({"flag": ["1"]}, {"flag": True, "other": 1, "lst": ["a b", "c&d"], "empty": [], "tup": ("x",)}, None),
        ({"a": [""]}, {"b": "", "c": 0, "d": 1.5}, ["zzz"]),
    ]
    quick = object.__new__(QuickChangeList)
    django_cl = object.__new__(ChangeList)
    for filter_params, new_params, remove in cases:
        quick.filter_params = dict(filter_params)
        django_cl.filter_params = dict(filter_params)
        # Twice: the second answer comes from the kept pieces.
        for _ in range(2):
            assert quick.get_query_string(new_params, remove) == django_cl.get_query_string(new_params, remove)
    with pytest.raises(TypeError):
        quick.get_query_string({"bad": [None]})


def test_filter_sidebar_and_list_links_are_djangos(client, ops, sdr, monkeypatch):
    """templates/admin/filter.html writes each filter's choices in one pass and QuickChangeList
    makes the links (speed): the sidebar, sort headers and page links must be Django's own."""
    from pathlib import Path

    import django
    from django.contrib.admin.templatetags import admin_list
    from django.contrib.admin.views.main import ChangeList
    from django.template import engines

    from apps.accounts.tests.factories import AccountFactory
    from apps.people.tests.factories import ContactFactory, RepFactory
    from sdrops.admin_changelist import QuickChangelistMixin

    RepFactory(owner_name='Rïa "Q" <b> & Co', team=sdr.team)
    for n in range(3):
        account = AccountFactory(name=f"Café {n} & Co", domain=f"cafe{n}.com", owner=sdr)
    ContactFactory(account=account, first_name="Ann <b>", email="ann@cafe2.com")
    djangos_filter = engines["django"].from_string(
        (Path(django.__file__).parent / "contrib/admin/templates/admin/filter.html").read_text())
    client.force_login(ops.user)

    def parts(url):
        html = client.get(url).content.decode()
        nav = html[html.index('<nav id="changelist-filter"'):html.index("</nav>", html.index('<nav id="changelist-filter"'))]
        head = html[html.index("<thead>"):html.index("</thead>")]
        pages = html[html.index('<p class="paginator">'):html.index("</p>", html.index('<p class="paginator">'))]
        return nav, head, pages

    for url in [
        reverse("admin:accounts_account_changelist") + "?o=-8&q=Caf%C3%A9+%26",
        reverse("admin:accounts_account_changelist") + f"?owner__id__exact={sdr.pk}&o=2.-8",
        reverse("admin:people_contact_changelist") + "?q=%3Cb%3E",
    ]:
        quick = parts(url)
        assert "Rïa &quot;Q&quot; &lt;b&gt; &amp; Co" in quick[0] or "/account/" not in url
        with monkeypatch.context() as patched:
            patched.setattr(admin_list, "get_template",
                            lambda name: djangos_filter if name == "admin/filter.html" else engines["django"].get_template(name))
            patched.setattr(QuickChangelistMixin, "get_changelist", lambda self, request, **kwargs: ChangeList)
            assert parts(url) == quick, url


def test_quick_rows_loading_only_their_columns_are_djangos_rows_and_template(rf, ops, sdr, ae, monkeypatch):
    """The quick lists load only their admin's `list_only` columns and write the body rows in
    one pass (templates/admin/quick_change_list_results.html): the table must be the one
    Django's `result_list` and change_list_results.html make from whole rows, in as many queries."""
    import datetime as dt

    from django.contrib import admin
    from django.contrib.admin.templatetags import admin_list
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.accounts.models import Account
    from apps.accounts.tests.factories import AccountFactory
    from apps.meetings.models import Meeting
    from apps.meetings.tests.factories import MeetingFactory
    from apps.people.tests.factories import ContactFactory
    from sdrops import admin_changelist

    for n in range(3):
        account = AccountFactory(name=f"Acme {n} <b>", domain=f"acme{n}.com", owner=sdr if n else None,
                                 owner_since=dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC) if n else None)
        contact = ContactFactory(account=account, first_name="Ann & Co" if n else "", email=f"ann{n}@acme.com")
        MeetingFactory(contact=contact, account=account, sdr=sdr, ae=ae,
                       scheduled_at=timezone.now() + dt.timedelta(days=n - 1))

    def table(model, template, context_of):
        request = rf.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        request.user = ops.user
        cl = admin.site._registry[model].get_changelist_instance(request)
        cl.formset = None  # as changelist_view sets it for a list without editable columns
        with CaptureQueriesContext(connection) as queries:
            html = render_to_string(template, context_of(cl))
        return html, [q["sql"] for q in queries.captured_queries]

    for model in (Account, Meeting):
        assert type(admin.site._registry[model]).list_only
        quick, quick_sql = table(model, "admin/quick_change_list_results.html", admin_changelist.quick_result_list)
        assert "<tr><td" in quick or "<tr><th" in quick
        with monkeypatch.context() as patched:
            patched.setattr(type(admin.site._registry[model]), "list_only", ())
            patched.setattr(admin_changelist.QuickChangelistMixin, "action_checkbox", admin.ModelAdmin.action_checkbox)
            djangos, djangos_sql = table(model, "admin/change_list_results.html", admin_list.result_list)
        assert quick == djangos, model
        assert len(quick_sql) == len(djangos_sql) == 1, (quick_sql, djangos_sql)
        assert len(quick_sql[0]) < len(djangos_sql[0])  # fewer columns: "technologies", "notes", … not read
