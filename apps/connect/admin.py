from __future__ import annotations

from django.contrib import admin

from apps.connect.models import SsoLogin, SsoRoleMapping
from sdrops.admin_scoping import ReadOnlyAdminMixin


@admin.register(SsoRoleMapping)
class SsoRoleMappingAdmin(admin.ModelAdmin):
    list_display = ["claim_value", "role", "team", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["claim_value"]
    list_select_related = ["team"]


@admin.register(SsoLogin)
class SsoLoginAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "email", "outcome", "reason", "user"]
    list_filter = ["outcome"]
    search_fields = ["email", "subject", "reason"]
    list_select_related = ["user"]
    date_hierarchy = "at"
