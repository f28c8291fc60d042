"""The admin's app list (every admin page's menus) without ~170 `reverse()` calls a page.

Django's `AdminSite._build_app_dict` reverses each visible model's changelist and add URL
and each app's index URL on every request, and sorts the list by lazily translated names:
for ops (about 80 models) that was half of the chrome's Python time on a small page. Those
parts depend only on the registered ModelAdmin, the URL configuration, the script prefix
and the language — never on the user — so they are worked out once per process for each
such combination. The per-user answers (`has_module_permission`, `get_model_perms`) are
asked on every request exactly as Django asks them, so the list each user gets is the one
Django builds (tests/test_admin_site.py compares the two).

The answers themselves depend only on the user's permissions and flags, so the whole list is
kept per user under the configuration version (sdrops/config_cache.py: a change to any
permission, group or membership bumps it): `viewer_key` is what it is filed under.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.text import capfirst
from django.utils.translation import get_language

from sdrops.admin_permissions import backends_are_plain


@dataclass(frozen=True)
class _Entry:
    """The user-independent part of one model's row in the app list."""

    name: str
    object_name: str
    admin_url: str | None
    add_url: str | None
    app_name: str
    app_url: str


def viewer_key(user) -> tuple | None:
    """What a user's app list (and the menus built from it) depends on besides the configuration
    version: the user and the flags Django's checks read, the URL configuration, prefix and
    language. None — build it afresh — when a backend may answer permissions its own way."""
    if not user.is_authenticated or not backends_are_plain():
        return None
    return (user.pk, user.is_active, user.is_staff, user.is_superuser,
            get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())


def _reverse_or_none(viewname: str, current_app: str, **kwargs) -> str | None:
    try:
        return reverse(viewname, kwargs=kwargs or None, current_app=current_app)
    except NoReverseMatch:
        return None


def _entry(site, model) -> _Entry:
    app_label, model_name = model._meta.app_label, model._meta.model_name
    return _Entry(
        name=str(capfirst(model._meta.verbose_name_plural)),
        object_name=model._meta.object_name,
        admin_url=_reverse_or_none(f"admin:{app_label}_{model_name}_changelist", site.name),
        add_url=_reverse_or_none(f"admin:{app_label}_{model_name}_add", site.name),
        app_name=str(apps.get_app_config(app_label).verbose_name),
        app_url=reverse("admin:app_list", kwargs={"app_label": app_label}, current_app=site.name),
    )


def _entries(site) -> dict:
    """model admin → _Entry for the current URL configuration, prefix and language. Keyed by
    the ModelAdmin object, so a model registered again (tests do) gets its own entry."""
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())
    store = site.__dict__.setdefault("_sdrops_app_list_entries", {})
    return store.setdefault(key, {})


def build_app_dict(site, request, label=None) -> dict:
    """What `AdminSite._build_app_dict(request, label)` returns, with the URLs and names from
    the per-process entries."""
    app_dict: dict = {}
    entries = _entries(site)
    for model, model_admin in site._registry.items():
        app_label = model._meta.app_label
        if label and app_label != label:
            continue
        has_module_perms = model_admin.has_module_permission(request)
        if not has_module_perms:
            continue
        perms = model_admin.get_model_perms(request)
        if True not in perms.values():
            continue
        entry = entries.get(model_admin)
        if entry is None:
            entry = entries[model_admin] = _entry(site, model)
        model_dict = {
            "model": model,
            "name": entry.name,
            "object_name": entry.object_name,
            "perms": perms,
            "admin_url": None,
            "add_url": None,
        }
        if perms.get("change") or perms.get("view"):
            model_dict["view_only"] = not perms.get("change")
            model_dict["admin_url"] = entry.admin_url
        if perms.get("add"):
            model_dict["add_url"] = entry.add_url
        if app_label in app_dict:
            app_dict[app_label]["models"].append(model_dict)
        else:
            app_dict[app_label] = {
                "name": entry.app_name,
                "app_label": app_label,
                "app_url": entry.app_url,
                "has_module_perms": has_module_perms,
                "models": [model_dict],
            }
    return app_dict
