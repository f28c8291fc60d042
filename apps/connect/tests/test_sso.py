"""OpenID Connect sign-on end to end against a real provider (django-oauth-toolkit) started
on 127.0.0.1 in a subprocess: the browser's redirects are followed with a real HTTP client,
the portal exchanges the code, checks the RS256 ID token against the provider's JWKS and
reads userinfo — no part of the protocol is stubbed."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.connect.models import SsoLogin, SsoRoleMapping
from apps.people.models import Rep
from apps.people.roles import ROLE_GROUP
from apps.people.tests.factories import RepFactory

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oidc/callback/"
USERS = [
    {"username": "alice", "password": "alice-pw-1", "email": "Alice.Able@example.com", "email_verified": True,
     "groups": ["everyone", "sales-sdr"], "team": "East", "name": "Alice Able"},
    {"username": "mona", "password": "mona-pw-1", "email": "mona@example.com", "email_verified": True,
     "groups": ["sales-managers", "sales-sdr"], "name": "Mona Manager"},
    {"username": "mallory", "password": "mallory-pw-1", "email": "mallory@example.com", "email_verified": True,
     "groups": ["marketing"], "name": "Mallory Marketing"},
    {"username": "victor", "password": "victor-pw-1", "email": "sam@example.com", "email_verified": False,
     "groups": ["sales-sdr"], "name": "Victor Unverified"},
]
CLIENTS = [
    {"name": "sdrops", "client_id": "sdrops-portal", "client_secret": "portal-secret-1", "redirect_uri": CALLBACK},
    {"name": "misissued", "client_id": "sdrops-misissued", "client_secret": "misissued-secret-1",
     "redirect_uri": CALLBACK},
]


PROVIDER_DATABASE = "sdrops_test_oidc_provider"


def _provider_database_params(django_db_blocker) -> dict:
    """A fresh database for the provider's own storage on the same PostgreSQL server the tests
    use (the embedded one or DATABASE_URL's), so no other engine is ever involved."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{PROVIDER_DATABASE}"')
        cursor.execute(f'CREATE DATABASE "{PROVIDER_DATABASE}"')
        params = connection.get_connection_params()
    return {"NAME": PROVIDER_DATABASE, "USER": params.get("user") or "", "PASSWORD": params.get("password") or "",
            "HOST": params.get("host") or "", "PORT": str(params.get("port") or "")}


@pytest.fixture(scope="module")
def provider(django_db_blocker):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "apps.connect.tests.oidc_provider.settings",
        "PROVIDER_DB": json.dumps(_provider_database_params(django_db_blocker)),
        "PROVIDER_RSA_KEY": key,
        "PROVIDER_USERS": json.dumps(USERS),
        "PROVIDER_CLIENTS": json.dumps(CLIENTS),
        "PROVIDER_ID_TOKEN_SECONDS": "120",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.connect.tests.oidc_provider.serve"], cwd=Path(django_settings.BASE_DIR),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"The OIDC provider did not start: {line}{process.stderr.read()}")
    base = f"http://127.0.0.1:{int(line.split()[1])}"
    yield base
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def oidc(settings, provider, team):
    settings.OIDC_RP_CLIENT_ID = "sdrops-portal"
    settings.OIDC_RP_CLIENT_SECRET = "portal-secret-1"
    settings.OIDC_OP_ISSUER = f"{provider}/o"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/o/.well-known/jwks.json"
    settings.OIDC_TEAM_CLAIM = "team"
    SsoRoleMapping.objects.create(claim_value="Sales-SDR", role=Rep.Role.SDR)
    SsoRoleMapping.objects.create(claim_value="sales-managers", role=Rep.Role.MANAGER, team=team)
    return settings


def sign_in(username: str, password: str, *, client: Client | None = None, before_callback=None):
    """Do what a browser does: start at the portal, sign in at the provider, come back to
    the callback. Returns (portal client, callback response)."""
    client = client or Client()
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    authorize = start["Location"]
    browser = requests.Session()
    page = browser.get(authorize, timeout=10)  # → the provider's login page
    assert page.status_code == 200 and "/accounts/login/" in page.url
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    next_url = re.search(r'name="next" value="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    response = browser.post(page.url, data={"username": username, "password": password,
                                            "csrfmiddlewaretoken": csrf, "next": next_url},
                            headers={"Referer": page.url}, allow_redirects=False, timeout=10)
    location = response.headers["Location"]
    for _ in range(5):  # the provider's own redirects, until it sends the browser back to us
        if location.startswith(CALLBACK):
            break
        response = browser.get(requests.compat.urljoin(response.url, location), allow_redirects=False, timeout=10)
        location = response.headers["Location"]
    assert location.startswith(CALLBACK), location
    if before_callback:
        before_callback()
    parts = urlsplit(location)
    return client, client.get(f"{parts.path}?{parts.query}")


def test_password_login_page_offers_sso_only_when_configured(client, settings, oidc):
    assert "Sign in with single sign-on" in client.get("/admin/login/").content.decode()
    settings.OIDC_RP_CLIENT_ID = ""
    assert "single sign-on" not in client.get("/admin/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404


def test_new_user_is_created_from_verified_email_with_mapped_role_and_team_claim(oidc, team):
    client, response = sign_in("alice", "alice-pw-1")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    user = get_user_model().objects.get(email="alice.able@example.com")
    assert user.is_staff and not user.has_usable_password()
    rep = user.rep
    assert (rep.role, rep.team, rep.owner_name) == (Rep.Role.SDR, team, "Alice Able")
    assert list(user.groups.values_list("name", flat=True)) == [ROLE_GROUP["sdr"]]
    # The session is a real portal session: the SDR's admin opens.
    assert client.get("/admin/").status_code == 200
    login = SsoLogin.objects.get()
    assert (login.outcome, login.user, login.groups) == ("created", user, ["everyone", "sales-sdr"])


def test_existing_password_user_is_matched_by_email_and_role_follows_the_groups(oidc, team, other_team):
    existing = RepFactory(role=Rep.Role.SDR, team=other_team, owner_name="Mona M", user__username="mona.m",
                          user__email="MONA@example.com")
    client, response = sign_in("mona", "mona-pw-1")
    assert response.status_code == 302
    existing.refresh_from_db()
    assert get_user_model().objects.filter(email__iexact="mona@example.com").count() == 1
    # Mapped to both SDR and manager: the wider role wins; the mapping's team applies.
    assert (existing.role, existing.team) == (Rep.Role.MANAGER, team)
    assert set(existing.user.groups.values_list("name", flat=True)) == {ROLE_GROUP["manager"]}
    assert client.session["_auth_user_id"] == str(existing.user.pk)
    assert SsoLogin.objects.get().outcome == "signed_in"


def test_unmapped_group_gets_no_access_and_no_user(oidc):
    client, response = sign_in("mallory", "mallory-pw-1")
    assert response.status_code == 403
    assert "No role is mapped for mallory@example.com&#x27;s groups (marketing)" in response.content.decode()
    assert not get_user_model().objects.filter(email="mallory@example.com").exists()
    assert "_auth_user_id" not in client.session
    assert SsoLogin.objects.get().reason.startswith("No role is mapped")


def test_unverified_email_does_not_take_over_an_existing_rep(oidc, sdr):
    sdr.user.email = "sam@example.com"
    sdr.user.save()
    client, response = sign_in("victor", "victor-pw-1")
    assert response.status_code == 403
    assert "has not verified the email address sam@example.com" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_token_for_another_audience_is_refused(oidc):
    oidc.OIDC_RP_CLIENT_ID = "sdrops-misissued"
    oidc.OIDC_RP_CLIENT_SECRET = "misissued-secret-1"
    client, response = sign_in("alice", "alice-pw-1")
    assert response.status_code == 403
    assert "issued for another client" in response.content.decode()
    assert not get_user_model().objects.filter(email="alice.able@example.com").exists()
    assert SsoLogin.objects.get().outcome == "refused"


def test_expired_token_is_refused(oidc):
    # The provider signs tokens valid for 120 s; the portal's clock reads 10 minutes later
    # when the browser comes back (a replayed or badly delayed callback).
    traveller = time_machine.travel(timezone.now() + dt.timedelta(minutes=10), tick=True)
    client, response = sign_in("alice", "alice-pw-1", before_callback=traveller.start)
    traveller.stop()
    assert response.status_code == 403
    assert "The ID token has expired." in response.content.decode()
    assert not get_user_model().objects.filter(email="alice.able@example.com").exists()


def test_wrong_issuer_is_refused(oidc):
    oidc.OIDC_OP_ISSUER = "https://login.example.com/o"
    _client, response = sign_in("alice", "alice-pw-1")
    assert response.status_code == 403 and "comes from another issuer" in response.content.decode()


def test_deactivated_user_is_refused(oidc):
    rep = RepFactory(role=Rep.Role.SDR, user__email="alice.able@example.com", user__is_active=False)
    _client, response = sign_in("alice", "alice-pw-1")
    assert response.status_code == 403 and f"{rep.user.username} is deactivated" in response.content.decode()
