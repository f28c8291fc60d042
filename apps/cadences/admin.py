"""Admin for cadences: ops edit cadences; reps work leads on the lead page (log activity,
disposition, enrol, skip) and see their today list. The lead lifecycle's own models
(SLA policies, reasons, settings, cycles) are in apps.leads.admin. Both pages are admin views under the enrolment admin's URLs; they
check row scope themselves (contacts_for_lead_work), so another rep's lead is a 404."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.cadences import selectors
from apps.cadences.follow_ups import follow_up_cancel, follow_up_complete, follow_up_create, follow_ups_for
from apps.cadences.forms import (
    LOGGABLE_TYPES,
    ActivityLogForm,
    DispositionForm,
    EnrolForm,
    FollowUpDoneForm,
    FollowUpForm,
)
from apps.cadences.models import (
    Cadence,
    CadenceStep,
    Enrolment,
    EnrolmentStep,
    FollowUpTask,
    FollowUpTaskEvent,
)
from apps.cadences.services import activity_create, enrolment_create, enrolment_step_skip
from apps.campaigns.engagement import contact_engagement_explain
from apps.campaigns.qualification import lead_disposition_with_criteria
from apps.leads.models import LeadCycle
from apps.leads.rules import may_qualify_without_evidence
from apps.leads.selectors import lead_sla_status
from apps.people.models import Rep
from apps.people.timezones import rep_zone
from sdrops.access import (
    contacts_for_lead_work,
    follow_ups_visible_to,
    rep_for_user,
    reps_visible_to,
    scoped_rep_ids,
)
from sdrops.admin_changelist import QuickChangelistMixin
from sdrops.admin_scoping import ReadOnlyAdminMixin


class CadenceStepInline(admin.TabularInline):
    model = CadenceStep
    extra = 0
    ordering = ["position"]


@admin.register(Cadence)
class CadenceAdmin(admin.ModelAdmin):
    list_display = ["name", "lead_type", "step_count", "active"]
    list_filter = ["lead_type", "active"]
    search_fields = ["name"]
    inlines = [CadenceStepInline]

    @admin.display(description="steps")
    def step_count(self, obj):
        return obj.steps.count()


class EnrolmentStepInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EnrolmentStep
    fields = ["position", "channel", "due_at", "outcome", "ended_at", "ended_by_system"]
    readonly_fields = fields
    extra = 0


@admin.register(Enrolment)
class EnrolmentAdmin(QuickChangelistMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contact", "cadence", "rep", "state", "enrolled_at", "ended_at", "lead_link"]
    list_select_related = ["contact", "cadence", "rep"]
    list_filter = ["state", "cadence"]
    search_fields = ["contact__email", "contact__last_name"]
    inlines = [EnrolmentStepInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = scoped_rep_ids(user=request.user)
        return qs if ids is None else qs.filter(rep_id__in=ids)

    @admin.display(description="lead page")
    def lead_link(self, obj):
        return format_html('<a href="{}">Open</a>', reverse("admin:cadences_lead_page", args=[obj.contact_id]))

    def get_urls(self):
        return [
            path("lead/<int:contact_id>/", self.admin_site.admin_view(self.lead_view), name="cadences_lead_page"),
            path("today/", self.admin_site.admin_view(self.today_view), name="cadences_today"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "today_url": reverse("admin:cadences_today")}
        return super().changelist_view(request, extra_context)

    # -- the lead page ---------------------------------------------------------------
    def lead_view(self, request, contact_id: int):
        contact = get_object_or_404(contacts_for_lead_work(user=request.user).select_related("account"),
                                    pk=contact_id)
        rep = rep_for_user(request.user)
        forms = {
            "log": ActivityLogForm(prefix="log"),
            "disposition": DispositionForm(prefix="disposition"),
            "enrol": EnrolForm(prefix="enrol"),
            "follow_up": FollowUpForm(prefix="follow_up"),
        }
        if request.method == "POST":
            action = request.POST.get("action")
            try:
                done = self._lead_action(request, action, contact, rep, forms)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                done = False
            if done:
                messages.success(request, done)
                return HttpResponseRedirect(request.path)
        summary = selectors.lead_summary(contact=contact)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Lead: {contact}",
            "contact": contact,
            "summary": summary,
            "engagement": contact_engagement_explain(contact=contact),
            "forms": forms,
            "opts": self.model._meta,
            "can_override": may_qualify_without_evidence(request.user),
            "today_url": reverse("admin:cadences_today"),
            "follow_ups": list(follow_ups_for(user=request.user, contact=contact)[:50]),
            "now": timezone.now(),
            "done_types": LOGGABLE_TYPES,
        }
        return TemplateResponse(request, "admin/cadences/lead_page.html", context)

    def _lead_action(self, request, action, contact, rep, forms) -> str | bool:
        actor = request.user
        if action == "log":
            form = forms["log"] = ActivityLogForm(request.POST, prefix="log")
            if not form.is_valid():
                return False
            data = form.cleaned_data
            activity = activity_create(
                rep=rep, contact=contact, type=data["type"], occurred_at=data["occurred_at"] or timezone.now(),
                subject=data["subject"], actor=actor, outcome=data["outcome"],
            )
            return f"{activity.get_type_display()} logged."
        if action == "disposition":
            form = forms["disposition"] = DispositionForm(request.POST, prefix="disposition")
            if not form.is_valid():
                return False
            cycle = LeadCycle.objects.filter(contact=contact).open().first()
            if cycle is None:
                raise ValidationError("This lead has no open cycle to disposition.")
            data = form.cleaned_data
            try:
                lead_disposition_with_criteria(
                    cycle=cycle, disposition=data["disposition"], reason=data["reason"], actor=actor,
                    override=data["override"], criteria_met=data["criteria_met"])
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                    return False
                raise
            return f"Lead dispositioned: {cycle.get_disposition_display()}."
        if action == "enrol":
            form = forms["enrol"] = EnrolForm(request.POST, prefix="enrol")
            if not form.is_valid():
                return False
            if rep is None:
                raise ValidationError("Only a rep can enrol a lead in a cadence.")
            enrolment = enrolment_create(contact=contact, cadence=form.cleaned_data["cadence"], rep=rep, actor=actor)
            return f"Enrolled in {enrolment.cadence}."
        if action == "skip":
            step = EnrolmentStep.objects.filter(pk=request.POST.get("step"), enrolment__contact=contact).first()
            if step is None:
                raise ValidationError("That step is not part of this lead's cadence.")
            enrolment_step_skip(step=step, actor=actor)
            return f"Step {step.position} skipped (not completed)."
        if action == "follow_up":
            form = forms["follow_up"] = FollowUpForm(request.POST, prefix="follow_up")
            if not form.is_valid():
                return False
            if rep is None:
                raise ValidationError("Only a rep can hold a follow-up task.")
            task = follow_up_create(rep=rep, contact=contact, title=form.cleaned_data["title"],
                                    due_at=form.cleaned_data["due_at"], actor=actor)
            return f"Follow-up logged: {task.title}."
        if action in ("follow_up_done", "follow_up_cancel"):
            form = FollowUpDoneForm(request.POST)
            if not form.is_valid():
                raise ValidationError("Choose the follow-up task and how it was done.")
            task = follow_ups_for(user=actor, contact=contact, open_only=False).filter(pk=form.cleaned_data["task"]).first()
            if task is None:
                raise ValidationError("That follow-up task is not on this lead.")
            if action == "follow_up_cancel":
                follow_up_cancel(task=task, actor=actor)
                return f"Follow-up cancelled: {task.title}."
            follow_up_complete(task=task, actor=actor, activity_type=form.cleaned_data["activity_type"])
            return f"Follow-up done: {task.title} (logged as {dict(LOGGABLE_TYPES)[form.cleaned_data['activity_type']]})."
        raise ValidationError("Unknown action.")

    # -- the today list --------------------------------------------------------------
    def today_view(self, request):
        rep = rep_for_user(request.user)
        visible = reps_visible_to(user=request.user).filter(role__in=[Rep.Role.SDR, Rep.Role.AE])
        chosen = request.GET.get("rep")
        if chosen:
            try:
                reps = [visible.get(pk=int(chosen))]
            except (ValueError, Rep.DoesNotExist):
                raise Http404("No such rep in your scope.")
        elif rep is not None and rep.role in (Rep.Role.SDR, Rep.Role.AE):
            reps = [rep]
        else:
            reps = list(visible)
        rep_ids = [r.pk for r in reps]
        now = timezone.now()
        tz = rep_zone(rep) if rep is not None else None
        steps = list(selectors.enrolment_steps_today(rep_ids=rep_ids, now=now, tz=tz))
        for step in steps:
            step.is_overdue = step.due_at < now
        untouched = (
            LeadCycle.objects.filter(rep_id__in=rep_ids, state=LeadCycle.State.ASSIGNED)
            .select_related("contact", "rep").order_by("assigned_at")
        )
        for cycle in untouched:
            cycle.sla_status = lead_sla_status(cycle=cycle, now=now)
        context = {
            **self.admin_site.each_context(request),
            "title": "Today: due and overdue cadence steps",
            "steps": steps,
            "awaiting": selectors.enrolments_awaiting_disposition(rep_ids=rep_ids),
            "untouched": untouched,
            "reps": visible if len(visible) > 1 else [],
            "chosen": chosen,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/cadences/today.html", context)


class FollowUpTaskEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FollowUpTaskEvent
    fields = ["occurred_at", "kind", "from_rep", "to_rep", "actor", "note"]
    readonly_fields = fields
    extra = 0


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Follow-ups are logged and completed on the lead page (or through the API); this list is
    for finding them (filters: open, due) and reading their history."""

    list_display = ["title", "rep", "contact", "account", "due_at", "status", "completed_at", "reminded_at"]
    list_select_related = ["rep", "contact", "account"]
    list_filter = ["status"]
    search_fields = ["title", "contact__email", "account__name"]
    date_hierarchy = "due_at"
    inlines = [FollowUpTaskEventInline]

    def get_queryset(self, request):
        return follow_ups_visible_to(user=request.user)
