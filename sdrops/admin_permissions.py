"""Permission answers for one build of the admin's app list.

Django asks `request.user.has_perm` four or five times per registered model to build the
app list every admin page shows (its menus), and each answer runs `auth.get_backends()`,
which imports and instantiates every configured backend again: ~300 backend builds per
page. With the backends this project configures (axes, ModelBackend, the SSO backend —
a ModelBackend) a model permission is granted exactly when the user is active and a
superuser or holds it in `get_all_permissions()`, so `PermissionAnswers` asks the backends
once and answers from that set. If any backend has its own `has_perm` or
`has_module_perms`, it steps aside and every question goes to the user as before.
"""

from __future__ import annotations

from django.contrib.auth import get_backends
from django.contrib.auth.backends import BaseBackend, ModelBackend

_PLAIN_HAS_PERM = (None, BaseBackend.has_perm, ModelBackend.has_perm)
_PLAIN_HAS_MODULE_PERMS = (None, ModelBackend.has_module_perms)


def backends_are_plain() -> bool:
    return all(
        getattr(type(backend), "has_perm", None) in _PLAIN_HAS_PERM
        and getattr(type(backend), "has_module_perms", None) in _PLAIN_HAS_MODULE_PERMS
        for backend in get_backends()
    )


class PermissionAnswers:
    """Stands in for `user` while the app list is built: model-level permission questions
    are answered from one `get_all_permissions()`; everything else is the user's."""

    def __init__(self, user):
        self.__dict__["_user"] = user
        self.__dict__["_perms"] = None
        self.__dict__["_labels"] = None

    def __getattr__(self, name):
        return getattr(self.__dict__["_user"], name)

    def __setattr__(self, name, value):
        setattr(self.__dict__["_user"], name, value)

    def _all(self) -> frozenset[str]:
        if self.__dict__["_perms"] is None:
            self.__dict__["_perms"] = frozenset(self.__dict__["_user"].get_all_permissions())
        return self.__dict__["_perms"]

    def has_perm(self, perm, obj=None) -> bool:
        user = self.__dict__["_user"]
        if obj is not None:
            return user.has_perm(perm, obj)
        return bool(user.is_active and (user.is_superuser or perm in self._all()))

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label) -> bool:
        user = self.__dict__["_user"]
        if self.__dict__["_labels"] is None:
            self.__dict__["_labels"] = frozenset(p.split(".", 1)[0] for p in self._all())
        return bool(user.is_active and (user.is_superuser or app_label in self.__dict__["_labels"]))
