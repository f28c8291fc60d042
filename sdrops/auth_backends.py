"""Permission checks without two queries per request.

`CachedPermissionsBackend` answers `has_perm` from each user's permission set cached per
process (sdrops.config_cache: reloaded when a permission, group permission or group
membership changes anywhere — the triggers of migration sdrops 0006). It authenticates
nobody: it sits before Django's ModelBackend, which keeps logging people in (and keeps its
path in their sessions). A permission the cache grants is answered here; a refused one is
asked of ModelBackend too, which finds the same set already on the user object.

The user row itself (is_active, is_superuser) is read fresh with every request, so
deactivating a user takes effect at once; only the permission sets are cached.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from sdrops import config_cache


class CachedPermissionsBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        return None  # ModelBackend (next in AUTHENTICATION_BACKENDS) checks passwords

    # get_user is ModelBackend's: a session may name this backend (the test client's
    # force_login picks the first backend that has get_user) and stays valid.

    def get_all_permissions(self, user_obj, obj=None):
        # The user's and their groups' sets under one read of the version (one statement,
        # not one for each); asked once per request, then the user object holds the answer.
        if user_obj.is_active and not user_obj.is_anonymous and obj is None and not hasattr(user_obj, "_perm_cache"):
            with config_cache.checked(config_cache.current_or_read()):
                return super().get_all_permissions(user_obj, obj)
        return super().get_all_permissions(user_obj, obj)

    def _get_permissions(self, user_obj, obj, from_name):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perm_cache_name = f"_{from_name}_perm_cache"
        if not hasattr(user_obj, perm_cache_name):
            key = ("auth.permissions", from_name, user_obj.pk, user_obj.is_superuser)
            shared = config_cache.cached(
                key, lambda: frozenset(super(CachedPermissionsBackend, self)._get_permissions(user_obj, obj, from_name))
            )
            # A set of the user's own (ModelBackend's attribute, so it asks nothing either).
            setattr(user_obj, perm_cache_name, set(shared))
        return getattr(user_obj, perm_cache_name)
