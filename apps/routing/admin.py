"""Routing in the admin: rules of engagement (every change recorded), routing rules,
decisions and the unmatched-lead queue, the claim-next queue, distribution preview and
commit, and the return/swap review queue with the SDR's return form."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.accounts.models import Account
from apps.accounts.selectors import accounts_visible_to
from apps.people.selectors import rep_for_user, scoped_rep_ids, user_sees_everything
from apps.routing import selectors, services
from apps.routing.forms import (
    DistributionPreviewForm,
    ReturnFileForm,
    ReturnReviewForm,
    RoutingRuleForm,
    RulesOfEngagementForm,
)
from apps.routing.intake import lead_intake, lead_intake_message
from apps.routing.models import (
    AccountRest,
    CapacityRule,
    Distribution,
    QueueItem,
    RepCapacityOverride,
    ReturnOutcome,
    ReturnRequest,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    RulesChange,
    RulesOfEngagement,
)
from sdrops.admin_scoping import ReadOnlyAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin


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


@admin.register(RulesOfEngagement)
class RulesOfEngagementAdmin(SettingsHistoryAdminMixin, RecordedChangesMixin, admin.ModelAdmin):
    form = RulesOfEngagementForm
    list_display = ["__str__", "inactivity_days", "rest_days", "updated_at"]
    readonly_fields = ["change_history", "updated_at"]
    fieldsets = [
        ("Retrieval", {"fields": ["inactivity_days", "meaningful_activity_types"]}),
        ("Rest", {"fields": ["rest_days", "rest_days_by_reason"]}),
        ("Exempt from retrieval", {"fields": ["exempt_open_opportunity", "exempt_meeting_scheduled", "exempt_pending_return"]}),
        ("History", {"fields": ["change_history", "updated_at"]}),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not RulesOfEngagement.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CapacityRule)
class CapacityRuleAdmin(RecordedChangesMixin, admin.ModelAdmin):
    list_display = ["role", "segment", "capacity"]
    list_editable = ["capacity"]
    readonly_fields = ["change_history"]


@admin.register(RepCapacityOverride)
class RepCapacityOverrideAdmin(RecordedChangesMixin, admin.ModelAdmin):
    list_display = ["rep", "capacity", "note"]
    autocomplete_fields = ["rep"]
    list_select_related = ["rep"]
    readonly_fields = ["change_history"]


@admin.register(RulesChange)
class RulesChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["changed_at", "object_type", "object_repr", "action", "actor", "summary"]
    list_filter = ["object_type", "action"]
    list_select_related = ["actor"]
    date_hierarchy = "changed_at"

    @admin.display(description="Changes")
    def summary(self, obj):
        return "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in obj.changes.items())[:300]


class RoutingRuleMemberInline(admin.TabularInline):
    model = RoutingRuleMember
    extra = 1
    fields = ["rep", "order", "weight", "current_weight"]
    readonly_fields = ["current_weight"]
    autocomplete_fields = ["rep"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(RecordedChangesMixin, admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["position", "name", "active", "strategy", "conditions", "rep_count"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    inlines = [RoutingRuleMemberInline]
    readonly_fields = ["change_history"]
    fieldsets = [
        (None, {"fields": ["name", "position", "active", "strategy"]}),
        ("Conditions (empty = any; the first matching rule wins)", {
            "fields": ["segments", "regions", "countries", "sources", "lead_types", "tiers"]}),
        ("History", {"fields": ["change_history"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_reps=Count("members"))

    @admin.display(description="reps", ordering="n_reps")
    def rep_count(self, obj):
        return obj.n_reps

    @admin.display(description="conditions")
    def conditions(self, obj):
        parts = [f"{label}: {', '.join(values)}" for label, values in [
            ("segment", obj.segments), ("region", obj.regions), ("country", obj.countries),
            ("source", obj.sources), ("lead type", obj.lead_types), ("tier", obj.tiers)] if values]
        return "; ".join(parts) or "any (fallback)"

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            RulesChange.objects.create(
                object_type=RoutingRule._meta.verbose_name, object_id=form.instance.pk, object_repr=str(form.instance),
                action="reps changed",
                changes={"reps": [None, [f"{m.rep} ×{m.weight}" for m in form.instance.members.select_related("rep")]]},
                actor=request.user,
            )


class UnmatchedFilter(admin.SimpleListFilter):
    title = "ops queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("open", "Waiting for ops (unmatched / no rep)")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(outcome__in=["unmatched", "no_rep"], resolved_at__isnull=True)
        return queryset


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ["decided_at", "contact", "account", "outcome", "rep", "rule", "strategy", "skipped_reps"]
    list_filter = [UnmatchedFilter, "outcome", "strategy", "reason", "rule"]
    list_select_related = ["contact", "account", "rep", "rule"]
    search_fields = ["contact__email", "account__name", "account__domain"]
    readonly_fields = [f.name for f in RoutingDecision._meta.fields]
    actions = ["route_again", "mark_resolved"]
    date_hierarchy = "decided_at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if user_sees_everything(request.user):
            return qs

        return qs.filter(rep_id__in=scoped_rep_ids(user=request.user) or [])

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="skipped")
    def skipped_reps(self, obj):
        return ", ".join(f"{s['rep']} ({services.SKIP_LABELS.get(s['reason'], s['reason'])})" for s in obj.skipped) or "—"

    @admin.action(description="Route again (after setting the lead's account or a rule)", permissions=["change"])
    def route_again(self, request, queryset):
        for decision in queryset.filter(outcome__in=["unmatched", "no_rep"], resolved_at__isnull=True).order_by("pk"):
            try:
                retried = services.routing_decision_retry(decision=decision, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{decision.contact or decision.account}: {_error_text(error)}", messages.ERROR)
            else:
                self.message_user(request, f"{retried.contact}: {retried.rep or retried.get_outcome_display()} — {retried.explanation}")

    @admin.action(description="Mark as dealt with (ops queue)", permissions=["change"])
    def mark_resolved(self, request, queryset):
        n = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"{n} lead(s) marked as dealt with.")


@admin.register(QueueItem)
class QueueItemAdmin(admin.ModelAdmin):
    change_list_template = "admin/routing/queueitem/change_list.html"
    list_display = ["created_at", "contact", "account", "rule", "claimed_by", "claimed_at"]
    list_filter = ["rule", ("claimed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["contact", "account", "rule", "claimed_by"]
    readonly_fields = ["rule", "contact", "account", "created_at", "claimed_by", "claimed_at"]

    def get_queryset(self, request):
        # The queues the user's reps claim from (ops: all): another team's leads stay hidden.
        return selectors.queue_items_visible_to(user=request.user).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [
            path("claim-next/", self.admin_site.admin_view(self.claim_next_view), name="routing_queueitem_claim_next"),
            *super().get_urls(),
        ]

    def claim_next_view(self, request):
        if request.method != "POST":
            return redirect("admin:routing_queueitem_changelist")
        rep = rep_for_user(request.user)
        if rep is None or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            item = services.queue_claim_next(rep=rep, actor=request.user)
        except ValidationError as error:
            self.message_user(request, _error_text(error), messages.ERROR)
        else:
            if item is None:
                self.message_user(request, "Nothing is waiting in your queues.", messages.WARNING)
            else:
                self.message_user(request, f"{item.contact} is yours now; the SLA clock has started.")
        return redirect("admin:routing_queueitem_changelist")


@admin.register(Distribution)
class DistributionAdmin(admin.ModelAdmin):
    change_list_template = "admin/routing/distribution/change_list.html"
    list_display = ["pk", "created_at", "status", "team", "segment", "accounts", "created_by", "committed_at", "preview_link"]
    list_filter = ["status", "segment"]
    list_select_related = ["team", "created_by"]
    readonly_fields = ["status", "team", "segment", "created_by", "created_at", "committed_at", "note", "summary_table"]
    exclude = ["summary"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_lines=Count("lines"))

    @admin.display(description="accounts", ordering="n_lines")
    def accounts(self, obj):
        return obj.n_lines

    @admin.display(description="")
    def preview_link(self, obj):
        return format_html('<a href="{}">Show</a>', reverse("admin:routing_distribution_preview", args=[obj.pk]))

    @admin.display(description="Per rep")
    def summary_table(self, obj):
        return format_html_join("", "<div>{}: {} → {} (+{} {})</div>", (
            (r["rep"], r["book_before"], r["book_after"], r["adds"], r["tiers"]) for r in obj.summary))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("new/", view(self.new_view), name="routing_distribution_new"),
            path("<int:pk>/preview/", view(self.preview_view), name="routing_distribution_preview"),
            path("<int:pk>/commit/", view(self.commit_view), name="routing_distribution_commit"),
            *super().get_urls(),
        ]

    def _require_ops(self, request):
        if not request.user.has_perm("routing.add_distribution"):
            raise PermissionDenied

    def new_view(self, request):
        self._require_ops(request)
        form = DistributionPreviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            distribution = services.distribution_preview(
                actor=request.user, team=form.cleaned_data["team"], segment=form.cleaned_data["segment"] or None
            )
            return redirect("admin:routing_distribution_preview", distribution.pk)
        context = {**self.admin_site.each_context(request), "title": "Preview a distribution", "form": form,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/routing/distribution/new.html", context)

    def preview_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        distribution = get_object_or_404(Distribution.objects.select_related("team", "created_by"), pk=pk)
        lines = (distribution.lines.select_related("account").order_by("rep_id", "-score")
                 if request.GET.get("accounts") else None)
        rows = selectors.distribution_summary_rows(distribution)
        over = [row for row in rows if row["over"]]
        context = {
            **self.admin_site.each_context(request), "title": f"Distribution {distribution.pk}: {distribution.get_status_display()}",
            "distribution": distribution, "rows": rows, "over_capacity": over, "lines": lines,
            "total": sum(r["adds"] for r in distribution.summary), "opts": self.model._meta,
            "can_commit": distribution.status == Distribution.Status.PREVIEW and request.user.has_perm("routing.add_distribution"),
        }
        return TemplateResponse(request, "admin/routing/distribution/preview.html", context)

    def commit_view(self, request, pk):
        self._require_ops(request)
        if request.method != "POST":
            return redirect("admin:routing_distribution_preview", pk)
        distribution = get_object_or_404(Distribution, pk=pk)
        try:
            services.distribution_commit(distribution=distribution, actor=request.user)
        except ValidationError as error:
            self.message_user(request, _error_text(error), messages.ERROR)
        else:
            self.message_user(request, f"Distribution {pk} committed: {distribution.lines.count()} account(s) assigned.")
        return redirect("admin:routing_distribution_preview", pk)


class PendingFirstFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ReturnRequest.Status.choices, ("all", "All")]

    def choices(self, changelist):
        value = self.value() or ReturnRequest.Status.PENDING
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                   "display": title}

    def queryset(self, request, queryset):
        value = self.value() or ReturnRequest.Status.PENDING
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account_link", "rep", "reason", "note_short", "swap_account", "status", "outcome", "review"]
    list_filter = [PendingFirstFilter, "reason", "outcome", ("rep", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["account", "rep", "swap_account"]
    search_fields = ["account_name", "rep__owner_name"]
    readonly_fields = [f.name for f in ReturnRequest._meta.fields]
    actions = ["approve_default", "mark_data_fixed"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return selectors.returns_visible_to(user=request.user)

    def has_add_permission(self, request):
        return False  # Filed from the account through the return form below.

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return selectors.may_review_returns(user=request.user)

    @admin.display(description="account", ordering="account_name")
    def account_link(self, obj):
        if obj.account_id is None:
            return obj.account_name
        return format_html('<a href="{}">{}</a>', reverse("admin:accounts_account_change", args=[obj.account_id]), obj.account_name)

    @admin.display(description="note")
    def note_short(self, obj):
        return (obj.note[:60] + "…") if len(obj.note) > 60 else obj.note

    @admin.display(description="")
    def review(self, obj):
        if obj.status != ReturnRequest.Status.PENDING:
            return ""
        return format_html('<a class="button" href="{}">Review</a>', reverse("admin:routing_returnrequest_review", args=[obj.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("file/<int:account_id>/", view(self.file_view), name="routing_returnrequest_file"),
            path("<int:pk>/review/", view(self.review_view), name="routing_returnrequest_review"),
            *super().get_urls(),
        ]

    def file_view(self, request, account_id):
        """The SDR's return/swap form, reached from their own account."""
        if not request.user.has_perm("routing.add_returnrequest"):
            raise PermissionDenied
        rep = rep_for_user(request.user)
        account = get_object_or_404(accounts_visible_to(user=request.user), pk=account_id)
        if not selectors.account_in_own_book(account=account, rep=rep):
            raise PermissionDenied(selectors.OWN_BOOK_ONLY)
        form = ReturnFileForm(request.POST or None, account=account, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                return_request = services.return_file(
                    account=account, rep=rep, reason=data["reason"], note=data["note"], duplicate_of=data["duplicate_of"],
                    get_back_on=data["get_back_on"], swap=data["swap"], actor=request.user,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field_name, errors in error.message_dict.items():
                        form.add_error(field_name if field_name in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
            else:
                text = f"Return of {account} filed for review."
                if data["swap"]:
                    text += (f" Your replacement: {return_request.swap_account}." if return_request.swap_account
                             else " No replacement is available in the pool right now.")
                self.message_user(request, text)
                target = return_request.swap_account_id or account.pk
                return redirect("admin:accounts_account_change", target)
        context = {**self.admin_site.each_context(request), "title": f"Return {account}", "form": form,
                   "account": account, "opts": self.model._meta}
        return TemplateResponse(request, "admin/routing/returnrequest/file.html", context)

    def review_view(self, request, pk):
        return_request = get_object_or_404(selectors.returns_reviewable_by(user=request.user), pk=pk)
        if not self.has_review_permission(request):
            raise PermissionDenied
        form = ReturnReviewForm(request.POST or None, return_request=return_request, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if "_reject" in request.POST:
                    services.return_reject(return_request=return_request, actor=request.user, note=data["note"])
                    text = f"Return of {return_request.account_name} rejected; {return_request.rep} will be told why."
                else:
                    approved = services.return_approve(
                        return_request=return_request, actor=request.user, outcome=data["outcome"] or None,
                        rest_days=data["rest_days"], reassign_to=data["reassign_to"], note=data["note"],
                    )
                    text = f"Return of {approved.account_name} approved: {approved.get_outcome_display()}."
            except ValidationError as error:
                form.add_error(None, _error_text(error))
            else:
                self.message_user(request, text)
                return redirect("admin:routing_returnrequest_changelist")
        context = {**self.admin_site.each_context(request), "title": f"Review the return of {return_request.account_name}",
                   "form": form, "return_request": return_request, "opts": self.model._meta,
                   # Named only when the reviewer may see it (as the merge choice).
                   "duplicate_of": selectors.return_survivor_visible(user=request.user, return_request=return_request)}
        return TemplateResponse(request, "admin/routing/returnrequest/review.html", context)

    @admin.action(description="Approve with the default outcome for each reason")
    def approve_default(self, request, queryset):
        if not self.has_review_permission(request):
            raise PermissionDenied
        reviewable = selectors.returns_reviewable_by(user=request.user)
        done, failed = 0, []
        for return_request in reviewable.filter(pk__in=queryset.values("pk"), status=ReturnRequest.Status.PENDING):
            try:
                services.return_approve(return_request=return_request, actor=request.user)
                done += 1
            except ValidationError as error:
                failed.append(f"{return_request.account_name}: {_error_text(error)}")
        self.message_user(request, f"{done} return(s) approved.")
        for text in failed:
            self.message_user(request, text, messages.ERROR)

    @admin.action(description="Data fixed: put the accounts back in the pool")
    def mark_data_fixed(self, request, queryset):
        if not user_sees_everything(request.user):
            raise PermissionDenied
        done = 0
        for return_request in queryset.filter(outcome=ReturnOutcome.DATA_FIX, data_fixed_at__isnull=True):
            services.return_data_fixed(return_request=return_request, actor=request.user)
            done += 1
        self.message_user(request, f"{done} account(s) back in the pool.")


@admin.register(AccountRest)
class AccountRestAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "until", "reason", "signal_on", "signal_added_at"]
    list_filter = ["kind", "reason"]
    list_select_related = ["account"]
    search_fields = ["account__name", "account__domain"]
    autocomplete_fields = ["account"]


def account_return_url(account: Account) -> str:
    """Where the account page links for "Return / swap" (used by the account admin)."""
    return reverse("admin:routing_returnrequest_file", args=[account.pk])



@admin.action(description="Route the selected inbound leads", permissions=["change"])
def route_selected_leads(modeladmin, request, queryset):
    """For the contact admin: route each selected lead through lead intake; a lead with an
    open cycle is reported on its own line and left alone."""
    routed = 0
    for email in queryset.order_by("pk").values_list("email", flat=True):
        try:
            result = lead_intake(actor=request.user, email=email)
        except ValidationError as error:
            modeladmin.message_user(request, f"{email}: {_error_text(error)}", messages.ERROR)
            continue
        routed += result.routed
        text = lead_intake_message(result)
        modeladmin.message_user(request, text if text.startswith(email) else f"{email}: {text}",
                                messages.SUCCESS if result.routed else messages.WARNING)
    if routed > 10:
        modeladmin.message_user(request, f"{routed} lead(s) routed.")
