import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_jobs_page_for_ops_says_when_no_cluster_runs(client, ops):
    client.force_login(ops.user)
    response = client.get(reverse("admin:jobs"))
    assert response.status_code == 200
    assert b"No django-q2 cluster is running" in response.content
    assert b"Background jobs" in client.get(reverse("admin:index")).content


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
    assert sum("sdrops_configversion" in sql for sql in statements) <= 2, statements
    assert not [sql for sql in statements if "routing_rulesofengagement" in sql or "icps_scoringsettings" in sql], statements
