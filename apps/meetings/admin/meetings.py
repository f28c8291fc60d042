"""Admin screens of the meeting flow.

SDRs book from the contact (`meetings/meeting/book/<contact id>/`); AEs find "my meetings to
disposition" on the admin index and disposition in two clicks (the meeting, then the
outcome); managers see their team's overdue dispositions. Every write is one service call;
objects are loaded through the scoped querysets, so a URL outside one's scope is a 404.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from apps.campaigns.qualification import meeting_disposition_with_criteria
from apps.meetings import selectors, services
from apps.meetings.forms import (
    MeetingBookForm,
    MeetingCancelForm,
    MeetingDispositionForm,
    MeetingRescheduleForm,
)
from apps.meetings.models import Meeting, RescheduleAttempt
from apps.people.models import Rep
from apps.people.timezones import when
from sdrops.access import (
    contacts_visible_to,
    meetings_visible_to,
    rep_for_user,
    reps_visible_to,
    user_sees_everything,
)
from sdrops.admin_changelist import QuickChangelistMixin
from sdrops.admin_scoping import ScopedAdminMixin


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
class MeetingAdmin(QuickChangelistMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = meetings_visible_to
    list_display = [
        "scheduled_at", "contact", "account", "ae", "sdr", "kind", "status", "disposition_due_at", "late_flag",
        "actions_column",
    ]
    list_display_links = ["scheduled_at"]
    list_select_related = ["contact", "account", "ae", "sdr"]
    list_only = ("scheduled_at", "contact__first_name", "contact__last_name", "contact__email", "account__name",
                 "ae__owner_name", "sdr__owner_name", "kind", "status", "disposition_due_at", "disposition_late")
    list_filter = [DispositionQueueFilter, "status", "kind", "disposition_late"]
    search_fields = ["contact__email", "contact__last_name", "account__name", "account__domain"]
    date_hierarchy = "scheduled_at"
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["contact", "account", "kind", "scheduled_at", "scheduled_end_at", "ae", "sdr",
                           "sdr_attends", "notes", "opportunity", "lead_cycle"]}),
        ("Disposition", {"fields": ["status", "disposition_due_at", "dispositioned_at", "dispositioned_by",
                                    "disposition_late", "disposition_notes", "sales_ready_criteria", "cancelled_by",
                                    "cancelled_by_user"]}),
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

    @admin.display(description="Sales-ready criteria")
    def sales_ready_criteria(self, obj):
        checks = obj.qualification_checks.select_related("criterion", "overridden_by")
        return format_html_join(
            "\n", '<div class="qualification-check">{} {}{}</div>',
            (("✓" if c.met else "✗", c.criterion, f" (override: {c.overridden_by})" if c.overridden_by_id else "")
             for c in checks),
        ) or "—"

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
                meeting_disposition_with_criteria(
                    meeting=meeting, outcome=data["outcome"], actor=request.user, notes=data["notes"],
                    lead_reason=data["lead_reason"], override=data["override"], criteria_met=data["criteria_met"],
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
