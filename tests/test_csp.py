"""Content-Security-Policy: every admin page carries it, and none needs what it forbids
(an inline <script> or an on*= handler), so `script-src 'self'` really holds."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, reverse

from apps.accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=\s*[\"']", re.I)


def admin_pages():
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"admin:{info}_changelist"), reverse(f"admin:{info}_add")]
        urls += [reverse(f"admin:{p.name}") for p in model_admin.get_urls()
                 if isinstance(p, URLPattern) and p.name and not p.pattern.converters
                 and not p.name.endswith(("_changelist", "_add", "_export"))]
    return urls


def test_every_admin_page_has_the_policy_and_no_inline_script(client, ops, sdr):
    AccountFactory(name="Acme")
    client.force_login(ops.user)
    client.raise_request_exception = False
    checked = 0
    for url in admin_pages():
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
        body = response.content.decode()
        assert not INLINE_SCRIPT.search(body), (url, INLINE_SCRIPT.search(body).group(0))
        assert not INLINE_HANDLER.search(body), (url, INLINE_HANDLER.search(body).group(0))
        checked += 1
    assert checked > 40


def test_login_page_and_api_docs_run_under_the_policy(client, ops):
    login = client.get(reverse("admin:login"))
    assert "script-src 'self'" in login["Content-Security-Policy"]
    client.force_login(ops.user)
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200 and "script-src 'self'" in docs["Content-Security-Policy"]
    assert not INLINE_SCRIPT.search(docs.content.decode())
