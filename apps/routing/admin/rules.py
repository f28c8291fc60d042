"""Rules of engagement (every change recorded), capacity rules and overrides, routing rules,
and the routing decisions with the unmatched-lead queue."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import OwnershipReason
from apps.routing import services
from apps.routing.admin.common import RecordedChangesMixin, _error_text, changes_in_words, value_in_words
from apps.routing.forms import REST_REASON_FIELDS, RoutingRuleForm, RulesOfEngagementForm
from apps.routing.models import (
    CapacityRule,
    RepCapacityOverride,
    RoutingCredit,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    RulesChange,
    RulesOfEngagement,
)
from sdrops.access import scoped_rep_ids, user_sees_everything
from sdrops.admin_changelist import QuickChangelistMixin
from sdrops.admin_scoping import ReadOnlyAdminMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin


@admin.register(RulesOfEngagement)
class RulesOfEngagementAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, RecordedChangesMixin, admin.ModelAdmin):
    form = RulesOfEngagementForm
    list_display = ["__str__", "inactivity_days", "rest_days", "updated_at"]
    readonly_fields = ["change_history", "updated_at"]
    fieldsets = [
        ("Retrieval", {"fields": ["inactivity_days", "meaningful_activity_types"]}),
        ("Rest", {"fields": ["rest_days"]}),
        ("Rest after a return, by reason", {"fields": REST_REASON_FIELDS, "classes": ["rest-by-reason"],
                                            "description": "Overrides the default rest for accounts returned "
                                                           "for that reason."}),
        ("Exempt from retrieval", {"fields": ["exempt_open_opportunity", "exempt_meeting_scheduled", "exempt_pending_return"]}),
        ("Ramp: a growing book", {"fields": ["starter_accounts_per_ae", "starter_accounts_by_segment", "ramp_growth_step",
                                              "ramp_inbound"]}),
        ("Credits", {"fields": ["credit_reasons"]}),
        ("Follow-up tasks", {"fields": ["follow_ups_move_with_account"]}),
        ("History", {"fields": ["change_history", "updated_at"]}),
    ]


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
    fields = ["changed_at", "object_type", "object_repr", "action", "actor", "summary"]
    readonly_fields = fields

    @admin.display(description="Changes")
    def summary(self, obj):
        return changes_in_words(obj)[:300]


class RoutingRuleMemberInline(admin.TabularInline):
    model = RoutingRuleMember
    extra = 1
    fields = ["rep", "order", "rep_weight", "current_weight", "leave_turns", "credit_turns"]
    readonly_fields = ["rep_weight", "current_weight", "leave_turns", "credit_turns"]
    autocomplete_fields = ["rep"]

    @admin.display(description="weight")
    def rep_weight(self, obj):
        """One weight: the rep's own (People → Reps, the reps CSV, the API)."""
        return obj.rep.routing_weight if obj.pk else "the rep's routing weight"


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
        ("Conditions on the person (checked before the account's owner)", {"fields": ["seniorities", "personas"]}),
        ("History", {"fields": ["change_history"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_reps=Count("members"))

    @admin.display(description="reps", ordering="n_reps")
    def rep_count(self, obj):
        return obj.n_reps

    @admin.display(description="conditions")
    def conditions(self, obj):
        parts = [f"{label}: {value_in_words(RoutingRule._meta.get_field(name), values)}" for label, name, values in [
            ("segment", "segments", obj.segments), ("region", "regions", obj.regions),
            ("country", "countries", obj.countries), ("source", "sources", obj.sources),
            ("lead type", "lead_types", obj.lead_types), ("tier", "tiers", obj.tiers),
            ("seniority", "seniorities", obj.seniorities), ("persona", "personas", obj.personas)] if values]
        return "; ".join(parts) or "any (fallback)"

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            RulesChange.objects.create(
                object_type=RoutingRule._meta.verbose_name, object_id=form.instance.pk, object_repr=str(form.instance),
                action="reps changed",
                changes={"reps": [None, [f"{m.rep} ×{m.rep.routing_weight}" for m in form.instance.members.select_related("rep")]]},
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


class DecisionReasonFilter(admin.SimpleListFilter):
    """The ownership reason a decision used, by its label (the column stores the code)."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return list(OwnershipReason.choices)

    def queryset(self, request, queryset):
        return queryset.filter(reason=self.value()) if self.value() else queryset


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(QuickChangelistMixin, admin.ModelAdmin):
    list_display = ["decided_at", "contact", "account", "outcome", "rep", "rule", "strategy", "skipped_reps"]
    list_filter = [UnmatchedFilter, "outcome", "strategy", DecisionReasonFilter, "rule"]
    list_select_related = ["contact", "account", "rep", "rule"]
    search_fields = ["contact__email", "account__name", "account__domain"]
    # The stored reason code and skipped-reps JSON are shown in words.
    fields = [{"reason": "reason_display", "skipped": "skipped_reps"}.get(f.name, f.name)
              for f in RoutingDecision._meta.fields if f.name != "id"]
    readonly_fields = fields
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

    @admin.display(description="ownership reason")
    def reason_display(self, obj):
        return dict(OwnershipReason.choices).get(obj.reason, obj.reason)

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


@admin.register(RoutingCredit)
class RoutingCreditAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Credits are written by the services (approved returns, no-shows), never by hand."""

    list_display = ["created_at", "rep", "reason", "account_name", "rule", "slot_used_in"]
    list_select_related = ["rep", "rule", "slot_used_in"]
    list_filter = ["reason"]
    search_fields = ["rep__owner_name", "account_name"]
    readonly_fields = [f.name for f in RoutingCredit._meta.fields]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if user_sees_everything(request.user):
            return qs
        return qs.filter(rep_id__in=scoped_rep_ids(user=request.user) or [])
