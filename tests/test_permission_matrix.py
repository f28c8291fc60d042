"""Who may read and change what: every admin URL and every API endpoint, walked as each role.

Generated from the registries (the admin site's ModelAdmins and their get_urls(), the API
router), so a page or endpoint added later is covered without touching this file. The
expected answer per role comes from the declared role table (apps.people.roles) and the
admin's own row scoping, and is asserted exactly — not only "no 500".
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.people.models import Rep
from apps.people.roles import LOCAL_APP_LABELS, ROLE_GROUP, ROLE_PERMISSIONS
from apps.people.tests.factories import ContactFactory, RepFactory

pytestmark = pytest.mark.django_db

STANDARD = {"changelist", "add", "change", "delete", "history"}
# Custom admin pages every rep may open whatever their model permissions: each shows only
# the rep's own rows (its view checks that itself). Anything not listed here that answers
# 200 to a role without the model's view permission fails the matrix.
OPEN_TO_EVERY_REP = {
    "cadences_today": "the rep's own task list for today",
    "connect_calendarfeed_mine": "the user's own calendar feed (make, revoke)",
    "connect_cadenceemail_compose": "a cadence email step of a lead the rep works (scoped like the lead page)",
}
ROLES = ["sdr", "ae", "other_manager", "ops"]


@dataclass
class Role:
    name: str
    user: object
    rep_role: str

    def declared(self, app_label: str, codename: str) -> bool:
        """The role table says this role holds the permission."""
        grants = ROLE_PERMISSIONS[ROLE_GROUP[self.rep_role]]
        return any(label == app_label and code in ("*", codename) for label, code in grants)


@pytest.fixture
def world(sdr, other_sdr, ae, ops, manager, other_team):
    other_manager = RepFactory(role=Rep.Role.MANAGER, team=other_team, owner_name="Otto Othermanager",
                               user__username="otto")
    mine = AccountFactory(name="Sam's account")
    theirs = AccountFactory(name="Olga's account")
    account_set_owner(account=mine, to_rep=sdr, reason="distribution")
    account_set_owner(account=theirs, to_rep=other_sdr, reason="distribution")
    for account in (mine, theirs):
        ContactFactory(account=account)
        ActivityFactory(account=account)
    return {
        "sdr": Role("sdr", sdr.user, Rep.Role.SDR),
        "ae": Role("ae", ae.user, Rep.Role.AE),
        "other_manager": Role("other_manager", other_manager.user, Rep.Role.MANAGER),
        "ops": Role("ops", ops.user, Rep.Role.OPS),
    }


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def model_admins():
    return sorted(admin.site._registry.items(), key=lambda item: (item[0]._meta.app_label, item[0]._meta.model_name))


def standard_urls(model, pk):
    info = (model._meta.app_label, model._meta.model_name)
    urls = {"changelist": reverse("admin:{}_{}_changelist".format(*info)), "add": reverse("admin:{}_{}_add".format(*info))}
    if pk is not None:
        for view in ("change", "delete", "history"):
            urls[view] = reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[pk])
    return urls


def custom_patterns(urlpatterns, standard_names):
    for pattern in urlpatterns:
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name not in standard_names:
            yield pattern


def custom_url(pattern, pk) -> str | None:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        kind = type(converter).__name__
        if kind in ("IntConverter", "PathConverter", "StringConverter"):
            kwargs[name] = pk if pk is not None else 0
        else:
            return None  # an unusual converter: covered by the no-500 walk below with reverse failing loudly
    return reverse(f"admin:{pattern.name}", kwargs=kwargs)


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_gets_the_login_page_for_every_admin_url(world):
    anonymous = client_for(None)
    walked, wrong = 0, []
    for model, model_admin in model_admins():
        pk = model._default_manager.values_list("pk", flat=True).first()
        names = {f"{model._meta.app_label}_{model._meta.model_name}_{v}" for v in STANDARD}
        urls = list(standard_urls(model, pk).values())
        urls += [u for p in custom_patterns(model_admin.get_urls(), names) if (u := custom_url(p, pk))]
        for url in urls:
            walked += 1
            response = anonymous.get(url)
            if response.status_code != 302 or "/admin/login/" not in response["Location"]:
                wrong.append((url, response.status_code))
    assert walked > 100 and not wrong, wrong


@pytest.mark.parametrize("role_name", ROLES)
def test_every_admin_page_answers_each_role_as_its_permissions_and_row_scope_say(world, role_name):
    role = world[role_name]
    client = client_for(role.user)
    request = admin_request(role.user)
    wrong = []
    for model, model_admin in model_admins():
        label, name = model._meta.app_label, model._meta.model_name
        may_view = role.user.has_perm(f"{label}.view_{name}") or role.user.has_perm(f"{label}.change_{name}")
        may_add = role.user.has_perm(f"{label}.add_{name}")
        may_delete = role.user.has_perm(f"{label}.delete_{name}")
        # The declared table and Django's permission check agree (no stray grants).
        if label in LOCAL_APP_LABELS:
            assert role.user.has_perm(f"{label}.view_{name}") == role.declared(label, f"view_{name}"), (role_name, name)
        in_scope = model_admin.get_queryset(request).values_list("pk", flat=True).order_by("pk").first() if may_view else None
        any_pk = model._default_manager.values_list("pk", flat=True).order_by("pk").first()
        urls = standard_urls(model, in_scope if in_scope is not None else any_pk)
        for view, url in urls.items():
            response = client.get(url)
            if view == "changelist" and response.status_code == 302:
                response = client.get(response["Location"])  # single-row settings pages open their one row
            status = response.status_code
            if not may_view:
                expected = {403}
            elif view == "add":
                expected = {200} if may_add and model_admin.has_add_permission(request) else {403}
            elif view == "delete":
                expected = {200} if may_delete and in_scope is not None else {403, 302}
            elif view in ("change", "history") and in_scope is None:
                expected = {302}  # nothing of this kind in the role's scope: "doesn't exist"
            else:
                expected = {200}
            if view == "delete" and may_delete and in_scope is not None and not model_admin.has_delete_permission(
                request, model._default_manager.get(pk=in_scope)
            ):
                expected = {403}
            if status not in expected:
                wrong.append((view, url, status, sorted(expected)))
        # Row scope: a record the role's changelist does not show cannot be opened by URL.
        if may_view:
            hidden = model._default_manager.exclude(pk__in=model_admin.get_queryset(request).values("pk")).values_list(
                "pk", flat=True).first()
            if hidden is not None:
                status = client.get(reverse(f"admin:{label}_{name}_change", args=[hidden])).status_code
                if status not in (302, 403, 404):
                    wrong.append(("out-of-scope change", label, name, hidden, status))
        # View-only roles cannot save a change, whatever they post.
        if may_view and in_scope is not None and not role.user.has_perm(f"{label}.change_{name}"):
            status = client.post(reverse(f"admin:{label}_{name}_change", args=[in_scope]), {}).status_code
            if status != 403:
                wrong.append(("view-only POST", label, name, status))
        names = {f"{label}_{name}_{v}" for v in STANDARD}
        for pattern in custom_patterns(model_admin.get_urls(), names):
            url = custom_url(pattern, in_scope if in_scope is not None else any_pk)
            status = client.get(url).status_code if url else None
            if status is not None and status not in (200, 302, 403, 404, 405):
                wrong.append(("custom", pattern.name, url, status))
            if status == 200 and not may_view and pattern.name not in OPEN_TO_EVERY_REP:
                # A custom page of a model the role may not view must not show it either,
                # unless it is a page of its own (reps' views with their own checks).
                wrong.append(("custom page open without view permission", pattern.name, url))
    assert not wrong, wrong


def test_site_level_custom_admin_pages_need_a_login_and_never_fail(world):
    standard = {"index", "login", "logout", "password_change", "password_change_done", "autocomplete", "jsi18n",
                "view_on_site", "app_list"}
    patterns = list(custom_patterns(admin.site.get_urls(), standard))
    anonymous = client_for(None)
    wrong = []
    for pattern in patterns:
        url = custom_url(pattern, 1)
        if url is None:
            continue
        response = anonymous.get(url)
        if response.status_code != 302 or "/admin/login/" not in response["Location"]:
            wrong.append(("anonymous", url, response.status_code))
        for role_name in ROLES:
            status = client_for(world[role_name].user).get(url).status_code
            if status not in (200, 302, 403, 404, 405):
                wrong.append((role_name, url, status))
    assert not wrong, wrong


# -- the API -------------------------------------------------------------------------------


def api_routes():
    from sdrops.api_urls import router

    yield from router.registry


def integration_token(user, scopes) -> str:
    from apps.integrations.models import Integration

    integration = Integration(name=f"matrix-{user.username}-{'-'.join(scopes) or 'none'}", user=user, scopes=scopes)
    token = integration.set_token()
    integration.save()
    return token


def test_api_refuses_anonymous_and_unscoped_tokens_on_every_endpoint(world):
    anonymous = Client(raise_request_exception=False)
    unscoped = Client(raise_request_exception=False,
                      HTTP_AUTHORIZATION=f"Bearer {integration_token(world['ops'].user, [])}")
    wrong = []
    for _prefix, viewset, basename in api_routes():
        url = reverse(f"api:{basename}-list")
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url, content_type="application/json")
            if response.status_code != 401:
                wrong.append(("anonymous", method, url, response.status_code))
            declared = getattr(viewset, "scopes", {}).get(method.upper())
            response = getattr(unscoped, method)(url, data={}, content_type="application/json")
            if declared and response.status_code != 403:
                wrong.append(("unscoped token", method, url, response.status_code))
    assert not wrong, wrong


@pytest.mark.parametrize("role_name", ROLES)
def test_api_answers_each_role_and_scoped_token_as_declared(world, role_name):
    from apps.integrations.models import Scope

    role = world[role_name]
    session = client_for(role.user)
    token = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {integration_token(role.user, [Scope.READ])}")
    wrong = []
    for _prefix, viewset, basename in api_routes():
        url = reverse(f"api:{basename}-list")
        read_perms = getattr(viewset, "model_perms", {}).get("GET", [])
        expected = 200 if role.user.has_perms(read_perms) else 403
        for who, client in (("session", session), ("read token", token)):
            status = client.get(url, HTTP_ACCEPT="application/json").status_code
            if status != expected:
                wrong.append((who, "GET", url, status, expected))
        # A read-only token never writes, whatever the user behind it may do.
        if "post" in {m.lower() for m in getattr(viewset, "http_method_names", [])} and hasattr(viewset, "create"):
            status = token.post(url, data={}, content_type="application/json").status_code
            if status != 403:
                wrong.append(("read token", "POST", url, status, 403))
            write_perms = getattr(viewset, "model_perms", {}).get("POST", [])
            status = session.post(url, data={}, content_type="application/json").status_code
            allowed = role.user.has_perms(write_perms)
            if (allowed and status != 400) or (not allowed and status != 403):
                wrong.append(("session", "POST {}", url, status, 400 if allowed else 403))
    assert not wrong, wrong


def test_api_detail_shows_only_records_in_the_roles_scope(world):
    from apps.accounts.models import Account

    theirs = Account.objects.get(name="Olga's account")
    mine = Account.objects.get(name="Sam's account")
    sdr = client_for(world["sdr"].user)
    assert sdr.get(reverse("api:account-detail", args=[mine.pk])).status_code == 200
    assert sdr.get(reverse("api:account-detail", args=[theirs.pk])).status_code == 404
    assert client_for(world["ops"].user).get(reverse("api:account-detail", args=[theirs.pk])).status_code == 200


def test_admin_never_accepts_an_api_token_as_a_login(world):
    token = integration_token(world["ops"].user, ["read"])
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(reverse("admin:accounts_account_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert get_user_model().objects.filter(pk=world["ops"].user.pk).exists()


# -- admin actions that change ownership ------------------------------------------------------


@pytest.mark.parametrize("role_name", ROLES)
def test_no_admin_action_changes_an_owner_without_the_permission(world, role_name):
    """Every action of every ModelAdmin, posted (with its confirmation step's fields) on the
    records the role can see: only a role holding accounts.change_account_owner — or a
    manager reviewing their own team's returns — may leave an ownership event."""
    from apps.accounts.models import Account, OwnershipEvent
    from apps.routing.services import return_file

    sdr_rep = world["sdr"].user.rep
    return_file(account=Account.objects.get(name="Sam's account"), rep=sdr_rep, reason="bad_data",
                note="wrong company", actor=world["sdr"].user)
    role = world[role_name]
    client = client_for(role.user)
    request = admin_request(role.user)
    pool_target = {"owner": "", "note": "matrix", "apply": "1", "post": "yes"}
    may_change_owners = role.user.has_perm("accounts.change_account_owner")
    wrong, owner_changes = [], 0
    for model, model_admin in model_admins():
        if not (role.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
                or role.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")):
            continue
        pks = [str(pk) for pk in model_admin.get_queryset(request).values_list("pk", flat=True)[:5]]
        if not pks:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        # Every action the class declares, offered to this role or not: posting a hidden one must do nothing either.
        names = {name for name in (model_admin.actions or [])} | set(model_admin.get_actions(request))
        for action in sorted(str(getattr(n, "__name__", n)) for n in names):
            if action == "delete_selected":
                continue
            before = OwnershipEvent.objects.count()
            response = client.post(url, {"action": action, "_selected_action": pks, "index": "0", **pool_target})
            changed = OwnershipEvent.objects.count() - before
            owner_changes += changed
            if response.status_code >= 500:
                wrong.append((model._meta.label, action, response.status_code))
            if changed and not may_change_owners and not (action == "approve_default" and role_name == "ops"):
                wrong.append((role_name, model._meta.label, action, f"{changed} ownership event(s)"))
    assert not wrong, wrong
    # The walk does reach the ownership actions: the roles allowed to use them did change owners.
    assert (owner_changes > 0) == may_change_owners
