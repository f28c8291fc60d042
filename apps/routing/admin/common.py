"""What the routing admin screens share: the validation-error line and the recorded-changes
mixin (every rules change goes through services.rules_save / rules_delete)."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.html import format_html, format_html_join

from apps.people.timezones import when
from apps.routing import services
from apps.routing.models import ReturnReason, RulesChange


def _recorded_model(object_type: str):
    for model in apps.get_app_config("routing").get_models():
        if model._meta.verbose_name == object_type:
            return model
    return None


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return next((f for f in model._meta.concrete_fields if f.attname == name), None)


def value_in_words(field, value) -> str:
    """A recorded value as people read it: choice labels, not codes; yes/no; a rep's name."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        base = field.base_field if isinstance(field, ArrayField) else field
        return ", ".join(value_in_words(base, item) for item in value)
    if isinstance(value, dict):
        if field is not None and field.name == "rest_days_by_reason":
            labels = dict(ReturnReason.choices)
            return ", ".join(f"{labels.get(k, k)}: {v} days" for k, v in value.items())
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if field is not None and field.is_relation and field.related_model is not None:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"a deleted {field.related_model._meta.verbose_name}"
    choices = dict(field.flatchoices) if field is not None and field.flatchoices else {}
    return str(choices.get(value, value))


def changes_in_words(change: RulesChange) -> str:
    """"Inactivity days: 30 → 45; Meaningful activity types: Call, Email …" for a recorded
    change (stored as field → [old, new] by services.rules_save)."""
    model = _recorded_model(change.object_type)
    parts = []
    for name, (old, new) in change.changes.items():
        field = _field(model, name)
        label = str(field.verbose_name) if field is not None else name.replace("_", " ")
        parts.append(f"{label[:1].upper()}{label[1:]}: {value_in_words(field, old)} → {value_in_words(field, new)}")
    return "; ".join(parts)


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
                ((when(r.changed_at), r.actor or "system", r.action, changes_in_words(r)) for r in rows),
            ),
        )
