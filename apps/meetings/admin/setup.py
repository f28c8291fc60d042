"""The meetings' settings (changes recorded), the reschedule tasks SDRs work from, and the
meeting emails sent."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from apps.accounts.models import Activity
from apps.meetings import services
from apps.meetings.models import (
    MeetingNotification,
    MeetingSettings,
    MeetingSettingsChange,
    RescheduleAttempt,
)
from sdrops.access import meetings_visible_to, reschedule_attempts_visible_to, user_sees_everything
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin


class MeetingSettingsChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MeetingSettingsChange
    verbose_name_plural = "Changes"
    extra = 0
    fields = ["changed_at", "field", "old_value", "new_value", "actor"]
    readonly_fields = fields


@admin.register(MeetingSettings)
class MeetingSettingsAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, admin.ModelAdmin):
    inlines = [MeetingSettingsChangeInline]
    fields = ["no_show_limit", "reschedule_touches", "reschedule_days", "disposition_due_hours",
              "default_duration_minutes", "opportunity_at_booking", "updated_at"]
    readonly_fields = ["updated_at"]

    def save_model(self, request, obj, form, change):
        services.meeting_settings_update(
            actor=request.user, **{field: form.cleaned_data[field] for field in services.SETTINGS_FIELDS}
        )


@admin.register(RescheduleAttempt)
class RescheduleAttemptAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = reschedule_attempts_visible_to
    list_display = ["contact", "sdr", "meeting", "touches", "due_by", "state", "book_link"]
    list_select_related = ["contact", "sdr", "meeting"]
    list_filter = ["state"]

    def get_queryset(self, request):
        touches = (
            Activity.objects.filter(
                contact_id=OuterRef("contact_id"), rep_id=OuterRef("sdr_id"), automated=False,
                occurred_at__gte=OuterRef("created_at"), type__in=["call", "email", "social"],
            )
            .order_by()
            .values("contact_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_touches=Coalesce(Subquery(touches), 0))

    @admin.display(description="touches made / allowed")
    def touches(self, obj):
        return f"{obj._touches} / {obj.touches_allowed}"

    @admin.display(description="")
    def book_link(self, obj):
        if obj.state != RescheduleAttempt.State.OPEN:
            return ""
        return format_html('<a href="{}">Book again</a>', reverse("admin:meetings_meeting_book", args=[obj.contact_id]))


@admin.register(MeetingNotification)
class MeetingNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sent_at", "kind", "meeting", "recipient", "email"]
    list_select_related = ["meeting__contact", "recipient"]
    list_filter = ["kind"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if user_sees_everything(request.user):
            return qs
        return qs.filter(Q(meeting__in=meetings_visible_to(user=request.user)))
