from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.cadences.models import EnrolmentStep
from apps.connect.calendar import calendar_feed_create, calendar_feed_revoke, calendar_feed_url
from apps.connect.chat import chat_channel_save
from apps.connect.email_steps import cadence_email_preview, cadence_email_send
from apps.connect.merge import MERGE_FIELDS
from apps.connect.models import (
    CadenceEmail,
    CalendarFeed,
    CalendarSettings,
    ChatChannel,
    CrmLink,
    CrmStageMapping,
    CrmUserMapping,
    EmailOptOut,
    EmailStepTemplate,
    OutboundEmail,
    RepSignature,
    SsoLogin,
    SsoRoleMapping,
)
from apps.integrations.outbox import url_problem
from sdrops.access import contacts_for_lead_work
from sdrops.admin_scoping import ReadOnlyAdminMixin
from sdrops.mail import mail_outbox_redeliver
from sdrops.settings_admin import SingletonSettingsAdminMixin


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


@admin.register(CalendarSettings)
class CalendarSettingsAdmin(SingletonSettingsAdminMixin, admin.ModelAdmin):
    fields = ["invite_prospect", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Ops see every feed and revoke them; every user manages their own on “My calendar feed”."""

    list_display = ["user", "token_hint", "created_at", "revoked_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__email", "token_hint"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("connect.change_calendarfeed")

    @admin.action(description="Revoke the selected feeds", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} feed(s); their URLs now answer 404.", messages.SUCCESS)

    def get_urls(self):
        return [
            path("mine/", self.admin_site.admin_view(self.mine_view), name="connect_calendarfeed_mine"),
            *super().get_urls(),
        ]

    def mine_view(self, request):
        """The signed-in user's own feed: make one (the URL is shown this once) or revoke it."""
        new_url = None
        if request.method == "POST":
            if request.POST.get("action") == "create":
                _feed, raw = calendar_feed_create(user=request.user)
                new_url = calendar_feed_url(raw)
            elif request.POST.get("action") == "revoke":
                calendar_feed_revoke(user=request.user)
                self.message_user(request, "Your calendar feed is revoked; its URL no longer works.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:connect_calendarfeed_mine"))
        feed = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).first()
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "My calendar feed",
            "feed": feed, "new_url": new_url,
        }
        return TemplateResponse(request, "admin/connect/calendar_feed_mine.html", context)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "status", "to", "subject", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "related", "message_id"]
    date_hierarchy = "created_at"
    actions = ["redeliver"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("connect.change_outboundemail")

    @admin.action(description="Send the selected messages again", permissions=["change"])
    def redeliver(self, request, queryset):
        count = mail_outbox_redeliver(rows=list(queryset))
        self.message_user(request, f"{count} message(s) queued again.", messages.SUCCESS)


class EmailStepTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailStepTemplate
        fields = ["step", "subject", "body", "automatic"]
        help_texts = {
            "body": "Merge fields: " + ", ".join(f"{{{{ {name} }}}} ({label})" for name, label in MERGE_FIELDS.items())
            + ". A field with no value for a contact stops the send.",
        }


@admin.register(EmailStepTemplate)
class EmailStepTemplateAdmin(admin.ModelAdmin):
    form = EmailStepTemplateForm
    list_display = ["step", "subject", "automatic", "updated_at"]
    list_filter = ["automatic", "step__cadence"]
    list_select_related = ["step__cadence"]
    search_fields = ["subject", "step__cadence__name"]


@admin.register(RepSignature)
class RepSignatureAdmin(admin.ModelAdmin):
    list_display = ["rep"]
    list_select_related = ["rep"]
    autocomplete_fields = ["rep"]
    search_fields = ["rep__owner_name"]


@admin.register(EmailOptOut)
class EmailOptOutAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "note", "created_at", "created_by"]
    list_filter = ["reason"]
    search_fields = ["email", "note"]
    list_select_related = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CadenceEmail)
class CadenceEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every cadence email step sent or refused; reps review and send on the compose page."""

    list_display = ["at", "enrolment_step", "status", "automatic", "reason", "sent_by"]
    list_filter = ["status", "automatic"]
    list_select_related = ["enrolment_step__enrolment__contact", "enrolment_step__enrolment__cadence", "sent_by"]
    search_fields = ["enrolment_step__enrolment__contact__email"]

    def get_urls(self):
        return [
            path("compose/<int:step_id>/", self.admin_site.admin_view(self.compose_view),
                 name="connect_cadenceemail_compose"),
            *super().get_urls(),
        ]

    def compose_view(self, request, step_id: int):
        """The rep reviews the email of a cadence step and sends it (from the lead page)."""
        step = get_object_or_404(
            EnrolmentStep.objects.select_related("enrolment__contact__account", "enrolment__rep__user")
            .filter(enrolment__contact__in=contacts_for_lead_work(user=request.user)),
            pk=step_id,
        )
        lead_url = reverse("admin:cadences_lead_page", args=[step.enrolment.contact_id])
        preview = cadence_email_preview(step=step)
        subject, body = preview["subject"], preview["body"]
        if request.method == "POST":
            subject, body = request.POST.get("subject", ""), request.POST.get("body", "")
            try:
                cadence_email_send(step=step, actor=request.user, subject=subject, body=body)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                self.message_user(request, f"Email sent to {step.enrolment.contact.email}; step {step.position} done.",
                                  messages.SUCCESS)
                return HttpResponseRedirect(lead_url)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": f"Email step {step.position} to {step.enrolment.contact}", "step": step,
            "subject": subject, "body": body, "problems": preview["problems"], "lead_url": lead_url,
            "from_line": f"{step.enrolment.rep.owner_name} <{step.enrolment.rep.user.email}>",
        }
        return TemplateResponse(request, "admin/connect/cadence_email_compose.html", context)


class ChatChannelForm(forms.ModelForm):
    url = forms.URLField(
        label="Incoming-webhook URL", max_length=500, required=False, assume_scheme="https",
        widget=forms.PasswordInput(render_value=False),
        help_text="Slack: https://hooks.slack.com/services/…; Teams: the incoming webhook or Workflows URL. "
        "It is a credential: it is never shown again; leave empty to keep the stored one.",
    )
    allow_private_network = forms.BooleanField(
        required=False, help_text="Allow loopback/private addresses (as for webhooks). Off for Slack and Teams.",
    )
    alerts = forms.MultipleChoiceField(choices=ChatChannel.Alert.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ChatChannel
        fields = ["name", "kind", "team", "rep", "alerts", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.endpoint_id:
            self.fields["allow_private_network"].initial = self.instance.endpoint.allow_private_network

    def clean(self):
        data = super().clean()
        url = data.get("url")
        if url:
            problem = url_problem(url, allow_private_network=data.get("allow_private_network", False))
            if problem:
                self.add_error("url", problem)
        elif not self.instance.endpoint_id:
            self.add_error("url", "Give the channel's incoming-webhook URL.")
        if bool(data.get("team")) == bool(data.get("rep")):
            self.add_error(None, "A channel is for one team or for one person: choose exactly one.")
        return data


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    form = ChatChannelForm
    list_display = ["name", "kind", "team", "rep", "alerts", "active", "endpoint_host"]
    list_filter = ["kind", "active"]
    list_select_related = ["team", "rep", "endpoint"]
    autocomplete_fields = ["rep"]

    @admin.display(description="host")
    def endpoint_host(self, obj):
        return urlsplit(obj.endpoint.url).hostname if obj.endpoint_id else "—"

    def save_model(self, request, obj, form, change):
        chat_channel_save(channel=obj, url=form.cleaned_data.get("url") or None,
                          allow_private_network=form.cleaned_data.get("allow_private_network", False))


@admin.register(CrmStageMapping)
class CrmStageMappingAdmin(admin.ModelAdmin):
    list_display = ["system", "crm_value", "stage"]
    list_filter = ["system", "stage"]
    list_select_related = ["stage"]
    search_fields = ["crm_value"]


@admin.register(CrmUserMapping)
class CrmUserMappingAdmin(admin.ModelAdmin):
    list_display = ["system", "crm_user", "rep"]
    list_filter = ["system"]
    list_select_related = ["rep"]
    autocomplete_fields = ["rep"]
    search_fields = ["crm_user", "rep__owner_name"]


@admin.register(CrmLink)
class CrmLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "external_id", "opportunity", "contact", "merged_into", "updated_at"]
    list_filter = ["kind"]
    list_select_related = ["opportunity", "contact"]
    search_fields = ["external_id", "merged_into", "contact__email", "opportunity__name"]
