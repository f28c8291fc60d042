"""Admin screens of the meeting flow.

SDRs book from the contact (`meetings/meeting/book/<contact id>/`); AEs find "my meetings to
disposition" on the admin index and disposition in two clicks (the meeting, then the
outcome); managers see their team's overdue dispositions. Every write is one service call;
objects are loaded through the scoped querysets, so a URL outside one's scope is a 404.
"""

from __future__ import annotations

import copy

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from apps.accounts.models import Activity
from apps.accounts.selectors import accounts_visible_to
from apps.meetings import selectors, services
from apps.meetings.forms import (
    MeetingBookForm,
    MeetingCancelForm,
    MeetingDispositionForm,
    MeetingRescheduleForm,
    OpportunityAdminForm,
)
from apps.meetings.models import (
    Meeting,
    MeetingNotification,
    MeetingSettings,
    MeetingSettingsChange,
    Opportunity,
    OpportunityEvent,
    OpportunityStage,
    RescheduleAttempt,
)
from apps.people.models import Rep
from apps.people.selectors import contacts_visible_to, rep_for_user, reps_visible_to, user_sees_everything
from apps.people.timezones import when
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedForeignKeyMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin


def _apply_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or on the form)."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


class DispositionQueueFilter(admin.SimpleListFilter):
    title = "disposition"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("to_disposition", "To disposition (started, not dispositioned)"),
            ("overdue", "Overdue (past due, not dispositioned)"),
            ("late", "Dispositioned late"),
            ("upcoming", "Upcoming"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "to_disposition":
            return queryset.started(now)
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "late":
            return queryset.filter(disposition_late=True)
        if self.value() == "upcoming":
            return queryset.scheduled().filter(scheduled_at__gt=now)  # not yet started (started() is <=)
        return queryset


@admin.register(Meeting)
class MeetingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = selectors.meetings_visible_to
    list_display = [
        "scheduled_at", "contact", "account", "ae", "sdr", "kind", "status", "disposition_due_at", "late_flag",
        "actions_column",
    ]
    list_display_links = ["scheduled_at"]
    list_select_related = ["contact", "account", "ae", "sdr"]
    list_filter = [DispositionQueueFilter, "status", "kind", "disposition_late"]
    search_fields = ["contact__email", "contact__last_name", "account__name", "account__domain"]
    date_hierarchy = "scheduled_at"
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["contact", "account", "kind", "scheduled_at", "scheduled_end_at", "ae", "sdr",
                           "sdr_attends", "notes", "opportunity", "lead_cycle"]}),
        ("Disposition", {"fields": ["status", "disposition_due_at", "dispositioned_at", "dispositioned_by",
                                    "disposition_late", "disposition_notes", "cancelled_by", "cancelled_by_user"]}),
        ("History", {"fields": ["previous_meeting", "booked_at", "booked_by", "notifications_sent", "actions_column"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False  # booked from the contact, through the booking form

    def has_change_permission(self, request, obj=None):
        return False  # every change is a disposition, a reschedule or a cancellation

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="late", boolean=True, ordering="disposition_late")
    def late_flag(self, obj):
        if obj.status == Meeting.Status.SCHEDULED:
            return False if not obj.is_overdue() else None
        return obj.disposition_late

    @admin.display(description="notifications")
    def notifications_sent(self, obj):
        rows = obj.notifications.order_by("sent_at")
        return format_html_join(
            "\n", "<div>{} → {} at {}</div>", ((n.get_kind_display(), n.email or "nobody", n.sent_at) for n in rows)
        ) or "—"

    @admin.display(description="")
    def actions_column(self, obj):
        if obj is None or obj.status != Meeting.Status.SCHEDULED:
            return ""
        links = []
        if obj.scheduled_at <= timezone.now():
            links.append((reverse("admin:meetings_meeting_disposition", args=[obj.pk]), "Disposition", "disposition"))
        else:
            links.append((reverse("admin:meetings_meeting_reschedule", args=[obj.pk]), "Reschedule", "reschedule"))
            links.append((reverse("admin:meetings_meeting_cancel", args=[obj.pk]), "Cancel", "cancel"))
        return format_html_join(" · ", '<a href="{}" class="meeting-{}">{}</a>', ((u, c, t) for u, t, c in links))

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)  # in the viewer's zone: apps.workspace.middleware

        return [
            path("book/<int:contact_id>/", view(self.book_view), name="meetings_meeting_book"),
            path("<int:object_id>/disposition/", view(self.disposition_view), name="meetings_meeting_disposition"),
            path("<int:object_id>/reschedule/", view(self.reschedule_view), name="meetings_meeting_reschedule"),
            path("<int:object_id>/cancel/", view(self.cancel_view), name="meetings_meeting_cancel"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def _scoped_meeting(self, request, object_id) -> Meeting:
        return get_object_or_404(
            self.get_queryset(request).select_related("contact", "account", "ae", "sdr"), pk=object_id
        )

    # --- booking ----------------------------------------------------------------------------

    def _sdr_choices(self, request):
        rep = rep_for_user(request.user)
        sdrs = Rep.objects.filter(role=Rep.Role.SDR, active=True)
        if rep is not None and rep.role == Rep.Role.SDR:
            return sdrs.filter(pk=rep.pk)
        if user_sees_everything(request.user):
            return sdrs
        return sdrs.filter(pk__in=reps_visible_to(user=request.user))

    def book_view(self, request, contact_id):
        if not request.user.has_perm("meetings.add_meeting"):
            raise PermissionDenied
        contact = get_object_or_404(contacts_visible_to(user=request.user).select_related("account"), pk=contact_id)
        sdr_choices = self._sdr_choices(request)
        rep = rep_for_user(request.user)
        sdr = rep if rep is not None and rep.role == Rep.Role.SDR else None
        if sdr is None and contact.account_id and contact.account.owner_id:
            sdr = sdr_choices.filter(pk=contact.account.owner_id).first()
        if request.method == "POST" and request.POST.get("sdr"):
            sdr = sdr_choices.filter(pk=request.POST["sdr"]).first() or sdr
        default_ae = (
            selectors.meeting_default_ae(sdr=sdr, segment=contact.account.segment if contact.account_id else "")
            if sdr is not None else None
        )
        form = MeetingBookForm(request.POST or None, sdr=sdr, sdr_choices=sdr_choices, default_ae=default_ae)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.meeting_book(
                    contact=contact, sdr=data["sdr"], actor=request.user, ae=data["ae"], kind=data["kind"],
                    scheduled_at=data["scheduled_at"], scheduled_end_at=data["scheduled_end_at"],
                    notes=data["notes"], sdr_attends=data["sdr_attends"],
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                self.message_user(
                    request, f"Booked: {meeting.get_kind_display()} with {contact} for {meeting.ae} on "
                    f"{when(meeting.scheduled_at)}.", messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:meetings_meeting_change", args=[meeting.pk]))
        upcoming = contact.meetings.filter(status=Meeting.Status.SCHEDULED).select_related("ae").order_by("scheduled_at")
        attempt = RescheduleAttempt.objects.filter(contact=contact, state=RescheduleAttempt.State.OPEN).first()
        return TemplateResponse(
            request, "admin/meetings/book.html",
            self._context(request, f"Book a meeting with {contact}", form=form, contact=contact,
                          upcoming=upcoming, attempt=attempt),
        )

    # --- disposition, reschedule, cancel --------------------------------------------------------------

    def disposition_view(self, request, object_id):
        meeting = self._scoped_meeting(request, object_id)
        if not selectors.user_may_disposition(user=request.user, meeting=meeting):
            raise PermissionDenied
        done = _next_url(request, reverse("admin:meetings_meeting_changelist") + "?queue=to_disposition")
        if meeting.status != Meeting.Status.SCHEDULED:
            self.message_user(request, f"This meeting is already {meeting.get_status_display()}.", messages.WARNING)
            return redirect(done)
        form = MeetingDispositionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.meeting_disposition(
                    meeting=meeting, outcome=data["outcome"], actor=request.user, notes=data["notes"],
                    lead_reason=data["lead_reason"],
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                meeting.refresh_from_db()
                late = " (late)" if meeting.disposition_late else ""
                self.message_user(
                    request, f"{meeting.contact}: {meeting.get_status_display()}{late}.", messages.SUCCESS
                )
                return redirect(done)
        return TemplateResponse(
            request, "admin/meetings/disposition.html",
            self._context(request, f"Disposition the meeting with {meeting.contact}", form=form, meeting=meeting,
                          outcomes=[(v, Meeting.Status(v).label) for v in Meeting.DISPOSITIONS],
                          next=request.GET.get("next", ""), now=timezone.now()),
        )

    def reschedule_view(self, request, object_id):
        meeting = self._scoped_meeting(request, object_id)
        if not selectors.user_may_change_booking(user=request.user, meeting=meeting):
            raise PermissionDenied
        duration = int((meeting.scheduled_end_at - meeting.scheduled_at).total_seconds() // 60)
        form = MeetingRescheduleForm(request.POST or None, initial={"duration_minutes": duration, "notes": meeting.notes})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                new = services.meeting_reschedule(
                    meeting=meeting, actor=request.user, scheduled_at=data["scheduled_at"],
                    scheduled_end_at=data["scheduled_end_at"], notes=data["notes"],
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                self.message_user(request, f"Rescheduled to {when(new.scheduled_at)}.",
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:meetings_meeting_change", args=[new.pk]))
        return TemplateResponse(
            request, "admin/meetings/simple_form.html",
            self._context(request, f"Reschedule the meeting with {meeting.contact}", form=form, meeting=meeting,
                          submit="Reschedule"),
        )

    def cancel_view(self, request, object_id):
        meeting = self._scoped_meeting(request, object_id)
        if not selectors.user_may_change_booking(user=request.user, meeting=meeting):
            raise PermissionDenied
        form = MeetingCancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.meeting_cancel(meeting=meeting, actor=request.user, cancelled_by=form.cleaned_data["cancelled_by"],
                                        notes=form.cleaned_data["notes"])
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                self.message_user(request, "The meeting is cancelled.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:meetings_meeting_change", args=[meeting.pk]))
        return TemplateResponse(
            request, "admin/meetings/simple_form.html",
            self._context(request, f"Cancel the meeting with {meeting.contact}", form=form, meeting=meeting,
                          submit="Cancel the meeting"),
        )


# --- opportunities ----------------------------------------------------------------------------------


class OpportunityEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OpportunityEvent
    verbose_name = "stage change"
    verbose_name_plural = "Stage history"
    extra = 0
    fields = ["occurred_at", "kind", "from_stage", "to_stage", "from_owner", "to_owner", "actor", "note"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]

    def has_view_permission(self, request, obj=None):
        return True  # whoever may see the opportunity sees its history


@admin.register(Opportunity)
class OpportunityAdmin(ScopedAdminMixin, ScopedForeignKeyMixin, admin.ModelAdmin):
    scope_selector = selectors.opportunities_visible_to
    # merged_into: the parent deal must be one the user sees (a hidden one is "not a valid choice").
    scoped_foreign_keys = {"account": accounts_visible_to, "merged_into": selectors.opportunities_visible_to}
    form = OpportunityAdminForm
    inlines = [OpportunityEventInline]
    list_display = ["name", "account", "stage", "amount", "close_date", "owner", "sourcing_sdr", "is_open", "created_at"]
    list_select_related = ["account", "stage", "owner", "sourcing_sdr"]
    list_filter = ["is_open", "stage", "closed_lost_reason"]
    search_fields = ["name", "account__name", "account__domain"]
    autocomplete_fields = ["account", "merged_into"]
    readonly_fields = ["sourcing_sdr", "source_meeting", "is_open", "pipeline_at", "closed_at", "created_at", "created_by"]
    fieldsets = [
        (None, {"fields": ["name", "account", "owner", "stage", "amount", "close_date"]}),
        ("Closing", {"fields": ["cs_owner", "closed_lost_reason", "merged_into", "closed_lost_details"]}),
        ("Attribution", {"fields": ["sourcing_sdr", "source_meeting", "created_by", "created_at", "pipeline_at",
                                    "closed_at", "is_open"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("account")
            if not obj.is_open:
                fields += ["stage", "owner", "closed_lost_reason", "merged_into"]
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            # Hand a deal only to an AE (or manager) the user sees: an AE keeps it, a manager
            # hands it within their teams, ops to anyone.
            kwargs["queryset"] = reps_visible_to(user=request.user).filter(
                role__in=[Rep.Role.AE, Rep.Role.MANAGER], active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "cs_owner" in form.base_fields:
            # A copy: the declared field is shared by every form class built from the form.
            field = copy.deepcopy(form.base_fields["cs_owner"])
            field.queryset = reps_visible_to(user=request.user).filter(active=True)
            form.base_fields["cs_owner"] = field
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.opportunity_create(
                account=data["account"], owner=data["owner"], actor=request.user, stage=data["stage"],
                name=data["name"], amount=data.get("amount"), close_date=data.get("close_date"),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        stored = Opportunity.objects.get(pk=obj.pk)
        if "owner" in data and data["owner"].pk != stored.owner_id:
            services.opportunity_handover(opportunity=stored, to_owner=data["owner"], actor=request.user)
        services.opportunity_update(
            opportunity=stored, actor=request.user, name=data["name"], amount=data.get("amount"),
            close_date=data.get("close_date"), closed_lost_details=data.get("closed_lost_details", ""),
        )
        if "stage" in data and data["stage"].pk != stored.stage_id:
            services.opportunity_stage_set(
                opportunity=stored, stage=data["stage"], actor=request.user,
                closed_lost_reason=data.get("closed_lost_reason") or "", merged_into=data.get("merged_into"),
                closed_lost_details=data.get("closed_lost_details", ""), cs_owner=data.get("cs_owner"),
            )
        obj.refresh_from_db()


@admin.register(OpportunityStage)
class OpportunityStageAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "code", "outcome", "is_pipeline"]
    list_display_links = ["name"]
    fields = ["name", "code", "position", "outcome", "is_pipeline"]
    readonly_fields = ["code", "position", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.opportunity_stage_update(stage=obj, name=obj.name, is_pipeline=obj.is_pipeline, actor=request.user)


# --- settings, reschedule tasks, notifications ---------------------------------------------------------


class MeetingSettingsChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MeetingSettingsChange
    verbose_name_plural = "Changes"
    extra = 0
    fields = ["changed_at", "field", "old_value", "new_value", "actor"]
    readonly_fields = fields


@admin.register(MeetingSettings)
class MeetingSettingsAdmin(SettingsHistoryAdminMixin, admin.ModelAdmin):
    inlines = [MeetingSettingsChangeInline]
    fields = ["no_show_limit", "reschedule_touches", "reschedule_days", "disposition_due_hours",
              "default_duration_minutes", "opportunity_at_booking", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = selectors.meeting_settings_get()
        return redirect(reverse("admin:meetings_meetingsettings_change", args=[row.pk]))

    def save_model(self, request, obj, form, change):
        services.meeting_settings_update(
            actor=request.user, **{field: form.cleaned_data[field] for field in services.SETTINGS_FIELDS}
        )


@admin.register(RescheduleAttempt)
class RescheduleAttemptAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = selectors.reschedule_attempts_visible_to
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
        return qs.filter(Q(meeting__in=selectors.meetings_visible_to(user=request.user)))


def contact_meetings_html(*, contact) -> str:
    """The contact page's meetings field: "Book a meeting" (the booking view checks who may)
    and the contact's latest meetings, each linking to its page."""
    book = format_html(
        '<a href="{}" class="button" id="book-meeting">Book a meeting</a>',
        reverse("admin:meetings_meeting_book", args=[contact.pk]),
    )
    recent = Meeting.objects.filter(contact=contact).select_related("ae").order_by("-scheduled_at")[:5]
    rows = format_html_join(
        "", '<li><a href="{}">{} · {} with {}</a> — {}</li>',
        (
            (reverse("admin:meetings_meeting_change", args=[m.pk]), when(m.scheduled_at),
             m.get_kind_display(), m.ae, m.get_status_display())
            for m in recent
        ),
    )
    if not rows:
        return book
    return format_html('<div>{}</div><ul style="margin: 0.6em 0 0; padding-left: 1.2em">{}</ul>', book, rows)
