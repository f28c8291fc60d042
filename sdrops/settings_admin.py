"""The admin side of settings history: edits made on a settings model's admin pages are
recorded with who made them (the triggers in sdrops/models.py keep the values; this adds
the user to the same event through django-pghistory's context)."""

from __future__ import annotations

import pghistory
from django.shortcuts import redirect


class SettingsHistoryAdminMixin:
    """For the ModelAdmin of every model sdrops/models.py tracks. Only these pages carry
    the context, so other requests' statements stay as they are."""

    def changeform_view(self, request, *args, **kwargs):
        with pghistory.context(user=request.user.pk, url=request.path):
            return super().changeform_view(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        with pghistory.context(user=request.user.pk, url=request.path):
            return super().delete_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        # Admin actions and list-editable saves run here.
        if request.method != "POST":
            return super().changelist_view(request, *args, **kwargs)
        with pghistory.context(user=request.user.pk, url=request.path):
            return super().changelist_view(request, *args, **kwargs)


class SingletonSettingsAdminMixin:
    """The admin of a settings singleton (sdrops.singleton): there is always exactly the one row
    (`load()` creates it with the defaults), so nobody adds or deletes one and the list opens it.
    No permission answer reads the table, so the app list on every page costs nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", self.model.load().pk)
