"""What the routing admin screens share: the validation-error line and the recorded-changes
mixin (every rules change goes through services.rules_save / rules_delete)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from apps.routing import services
from apps.routing.models import (
    RulesChange,
)


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(f"{m}" for messages_ in error.message_dict.values() for m in messages_)
    return " ".join(error.messages)


class RecordedChangesMixin:
    """Saves and deletes go through services.rules_save/rules_delete: each change recorded."""

    def save_model(self, request, obj, form, change):
        services.rules_save(instance=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.rules_delete(instance=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.rules_delete(instance=obj, actor=request.user)

    @admin.display(description="Change history")
    def change_history(self, obj):
        if not obj or not obj.pk:
            return "—"
        rows = RulesChange.objects.filter(object_type=obj._meta.verbose_name, object_id=obj.pk).select_related("actor")[:20]
        if not rows:
            return "No recorded changes yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} · {} · {}: {}</li>",
                ((f"{r.changed_at:%Y-%m-%d %H:%M}", r.actor or "system", r.action,
                  "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in r.changes.items())) for r in rows),
            ),
        )
