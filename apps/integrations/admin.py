from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from apps.integrations.models import (
    DeliveryAttempt,
    EventType,
    InboundDelivery,
    Integration,
    MergeNotice,
    OutboxEvent,
    Scope,
    WebhookEndpoint,
)
from apps.integrations.outbox import outbox_redeliver, url_problem
from apps.integrations.services import integration_token_rotate
from apps.integrations.signing import standard_secret
from sdrops.admin_scoping import ReadOnlyAdminMixin


class IntegrationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = Integration
        fields = ["name", "user", "scopes", "throttle_rate", "active", "secret"]


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = ["name", "user", "scopes", "throttle_rate", "active", "token_hint", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["token_hint", "standard_webhooks_secret", "created_at", "last_used_at"]
    actions = ["rotate_token"]

    @admin.display(description="Standard Webhooks secret")
    def standard_webhooks_secret(self, obj):
        # What the CRM's Standard Webhooks library takes: the same key as "secret", spelled whsec_<base64>.
        return standard_secret(obj.secret) if obj and obj.secret else "—"

    def save_model(self, request, obj, form, change):
        if not change:
            token = obj.set_token()
            super().save_model(request, obj, form, change)
            self.message_user(
                request,
                f"Token for “{obj.name}” (copy it now, it is not shown again): {token}",
                messages.WARNING,
            )
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Rotate token (the old one stops working at once)", permissions=["change"])
    def rotate_token(self, request, queryset):
        for integration in queryset:
            token = integration_token_rotate(integration=integration)
            self.message_user(
                request, f"New token for “{integration.name}” (shown once): {token}", messages.WARNING
            )


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "active", "allow_private_network", "secret"]

    def clean(self):
        cleaned = super().clean()
        if "url" not in self.fields:
            return cleaned
        url = cleaned.get("url")
        if url:
            problem = url_problem(url, allow_private_network=bool(cleaned.get("allow_private_network")))
            if problem:
                self.add_error("url", problem)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "address", "event_types", "active", "allow_private_network"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    readonly_fields = ["standard_webhooks_secret"]

    @admin.display(description="URL", ordering="url")
    def address(self, obj):
        # A secret URL (a chat channel's incoming webhook) is stored encrypted; `url` holds its host only.
        return f"{obj.url}… (secret, kept encrypted)" if obj.url_is_secret else obj.url

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.url_is_secret:
            # Changed only where it was entered (its chat channel), which never shows it.
            fields.insert(0, "address")
        return fields

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.url_is_secret:
            fields = ["address", *(name for name in fields if name not in ("url", "address"))]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and obj.url_is_secret:
            form.base_fields.pop("url", None)  # the form's declared field would come back otherwise
        return form

    @admin.display(description="Standard Webhooks secret")
    def standard_webhooks_secret(self, obj):
        # What the receiver's Standard Webhooks library verifies with.
        return standard_secret(obj.secret) if obj and obj.secret else "—"


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "status_code", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "endpoint", "status", "attempts", "next_attempt_at", "created_at", "last_error"]
    list_filter = ["status", "type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id"]
    readonly_fields = [
        "event_id", "endpoint", "type", "payload", "status", "attempts", "next_attempt_at", "last_error",
        "created_at", "delivered_at",
    ]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    @admin.action(description="Redeliver selected events (same event id)", permissions=["change"])
    def redeliver(self, request, queryset):
        with transaction.atomic():
            count = outbox_redeliver(events=list(queryset))
        self.message_user(request, f"{count} event(s) queued for delivery again.", messages.SUCCESS)


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "integration", "idempotency_key", "kind", "record_key", "response_status"]
    list_filter = ["integration", "kind", "response_status"]
    search_fields = ["idempotency_key", "record_key"]
    list_select_related = ["integration"]


@admin.register(MergeNotice)
class MergeNoticeAdmin(admin.ModelAdmin):
    list_display = ["received_at", "domain", "merged_into_domain", "account", "merged_into", "resolved"]
    list_filter = ["resolved"]
    list_editable = ["resolved"]
    list_select_related = ["account", "merged_into"]
    readonly_fields = ["integration", "domain", "merged_into_domain", "account", "merged_into", "sender_timestamp",
                       "received_at"]

    def has_add_permission(self, request):
        return False
