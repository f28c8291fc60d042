from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.formsets import all_valid
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.accounts.models import Account
from apps.icps import refinement_admin
from apps.icps.account_admin import quadrant_label, score_breakdown_html
from apps.icps.models import (
    ICP,
    ICPChange,
    ResearchCategory,
    Rule,
    ScoreHistory,
    ScoringSettings,
    Signal,
    SignalType,
)
from apps.icps.scoring import ICPSpec
from apps.icps.selectors import account_research_progress, account_score_explain, icp_impact_preview
from apps.icps.services import (
    accounts_rescore,
    icp_change_record,
    icp_snapshot,
    intelligence_run_log,
    rescore_all_later,
    signal_clean,
    signal_delete,
    signal_record,
    signal_update,
)
from apps.people.models import Segment
from sdrops.access import accounts_visible_to
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedForeignKeyMixin
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin

TIER_LABELS = {"A": "Tier A", "B": "Tier B", "C": "Tier C", "": "No ICP match"}


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 1
    fields = ["position", "category", "condition", "values", "minimum", "maximum", "signal_type", "days", "points"]
    readonly_fields = ["values_display"]
    ordering = ["position", "id"]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if not self.has_change_permission(request, obj):
            # Those who only read the rules see segments by name; editors type the codes.
            fields = ["values_display" if name == "values" else name for name in fields]
        return fields

    @admin.display(description="values")
    def values_display(self, rule):
        if rule.condition == Rule.Condition.SEGMENT_IN:
            labels = dict(Segment.choices)
            return ", ".join(str(labels.get(v, v)) for v in rule.values)
        return ", ".join(rule.values)


@admin.register(ICP)
class ICPAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "rule_count", "matched_accounts", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    inlines = [RuleInline]
    readonly_fields = ["recent_changes"]
    fields = ["name", "active", "description", "recent_changes"]
    change_form_template = "admin/icps/icp/change_form.html"
    change_list_template = "admin/icps/icp/change_list.html"

    def get_queryset(self, request):
        from django.db.models import Count, IntegerField, OuterRef, Subquery
        from django.db.models.functions import Coalesce

        matched = (
            Account.objects.filter(matched_icp=OuterRef("pk")).order_by().values("matched_icp")
            .annotate(n=Count("pk")).values("n")
        )
        return super().get_queryset(request).annotate(
            _rules=Count("rules", distinct=True),
            _matched=Coalesce(Subquery(matched, output_field=IntegerField()), 0),
        )

    @admin.display(description="rules", ordering="_rules")
    def rule_count(self, obj):
        return obj._rules

    @admin.display(description="matched accounts", ordering="_matched")
    def matched_accounts(self, obj):
        return obj._matched

    @admin.display(description="recent changes")
    def recent_changes(self, obj):
        changes = list(obj.changes.select_related("actor")[:10]) if obj.pk else []
        if not changes:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} · {} · {}: {}</li>",
                ((c.changed_at.strftime("%Y-%m-%d %H:%M"), c.actor or "system", c.get_action_display(), change_summary(c)) for c in changes),
            ),
        )

    # --- impact preview: every save of an ICP shows the tier movement first -------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_confirm_impact" not in request.POST:
            response = self._impact_preview(request, object_id)
            if response is not None:
                return response
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _impact_preview(self, request, object_id):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and obj is None:
            return None
        allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if not allowed:
            return None
        ModelForm = self.get_form(request, obj, change=obj is not None)
        form = ModelForm(request.POST, request.FILES, instance=obj)
        form_valid = form.is_valid()
        # The same formsets the admin would save (private hook, stable since Django 1.x); on
        # invalid input we fall through and the normal change form shows the errors.
        formsets, _inlines = self._create_formsets(request, form.instance, change=obj is not None)
        if not (form_valid and all_valid(formsets)):
            return None
        rules = []
        for formset in formsets:
            for rule_form in formset.forms:
                if formset.can_delete and formset._should_delete_form(rule_form):
                    continue
                if rule_form.instance.pk is None and not rule_form.has_changed():
                    continue
                rules.append(rule_form.instance)
        icp = form.instance
        preview = icp_impact_preview(
            proposed=ICPSpec.from_icp(icp, rules), replaces=obj.pk if obj else None, proposed_active=icp.active
        )
        hidden = [(key, value) for key, values in request.POST.lists() for value in values if key != "csrfmiddlewaretoken"]
        return self.preview_response(request, icp=icp, obj=obj, preview=preview, hidden=hidden)

    def preview_response(self, request, *, icp, obj, preview, hidden, proposal=None, action=None):
        """The impact preview page: from the change form (re-posting what was typed) or from
        an ICP refinement proposal (apps.icps.refinement_admin; `action` is then the change URL)."""
        rows = [
            (TIER_LABELS[tier], current, proposed, f"{proposed - current:+d}" if proposed != current else "")
            for tier, (current, proposed) in preview.counts.items()
        ]
        moves = [
            (TIER_LABELS[old], TIER_LABELS[new], n) for (old, new), n in sorted(preview.moves.items())
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Impact of this change to {icp.name or 'the new ICP'}",
            "opts": self.opts,
            "original": obj,
            "rows": rows,
            "moves": moves,
            "preview": preview,
            "hidden": hidden,
            "subtitle": None,
            "proposal": proposal,
            "action": action,
        }
        return TemplateResponse(request, "admin/icps/icp/impact_preview.html", context)

    def save_model(self, request, obj, form, change):
        request._icp_before = icp_snapshot(icp_id=obj.pk) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        change_row = icp_change_record(icp=form.instance, before=getattr(request, "_icp_before", None), actor=request.user)
        if change_row is not None:
            messages.info(request, "All accounts are being rescored with the new rules.")

    def delete_model(self, request, obj):
        before = icp_snapshot(icp_id=obj.pk)
        with transaction.atomic():
            super().delete_model(request, obj)
            icp_change_record(icp=obj, before=before, actor=request.user, deleted=True)

    def delete_queryset(self, request, queryset):
        for obj in queryset.order_by("pk"):
            self.delete_model(request, obj)

    # --- the account score page ---------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "account/<int:account_id>/score/",
                self.admin_site.admin_view(self.account_score_view),
                name="icps_account_score",
            ),
            path("refinement/", self.admin_site.admin_view(self.refinement_view), name="icps_icp_refinement"),
            path("<path:object_id>/propose/", self.admin_site.admin_view(self.propose_view), name="icps_icp_propose"),
        ] + super().get_urls()

    def refinement_view(self, request):
        return refinement_admin.refinement_view(self, request)

    def propose_view(self, request, object_id):
        return refinement_admin.propose_view(self, request, object_id)

    def changelist_view(self, request, extra_context=None):
        extra = {"refinement_url": reverse("admin:icps_icp_refinement") if request.user.has_perm("icps.view_icp") else None}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def account_score_view(self, request, account_id):
        if not request.user.has_perm("accounts.view_account"):
            raise PermissionDenied
        account = get_object_or_404(accounts_visible_to(user=request.user).select_related("matched_icp"), pk=account_id)
        categories = list(ResearchCategory.objects.filter(active=True))
        if request.method == "POST" and "_intelligence_run" in request.POST:
            if not request.user.has_perm("accounts.add_activity"):
                raise PermissionDenied
            chosen = [c for c in categories if str(c.pk) in request.POST.getlist("category")]
            try:
                intelligence_run_log(
                    account=account, categories=chosen, rep=getattr(request.user, "rep", None), actor=request.user
                )
                messages.success(request, f"Intelligence run logged; {len(chosen)} research categories ticked.")
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return redirect(request.path)
        if request.method == "POST":
            if not request.user.has_perm("accounts.change_account"):
                raise PermissionDenied
            accounts_rescore(account_ids=[account.pk])
            account.refresh_from_db()
            messages.success(request, "Rescored.")
        ticked = set(account.research_items.values_list("category_id", flat=True))
        explanation = account_score_explain(account=account)
        done, total = account_research_progress(account=account)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Score of {account.name}",
            "subtitle": None,
            "opts": self.opts,
            "account": account,
            "breakdown": score_breakdown_html(explanation, stored_total=account.total_score),
            "quadrant": quadrant_label(account.quadrant),
            "signals": account.signals.select_related("type")[:50],
            "history": account.score_history.select_related("icp")[:50],
            "research": f"{done}/{total}",
            "checklist": [(c, c.pk in ticked) for c in categories],
            "can_log_research": request.user.has_perm("accounts.add_activity"),
        }
        return TemplateResponse(request, "admin/icps/account_score.html", context)


def change_summary(change: ICPChange) -> str:
    parts = [f"{name}: {old!r} → {new!r}" for name, (old, new) in change.changes.get("fields", {}).items()]
    parts += [f"rule added: {text}" for text in change.changes.get("rules_added", [])]
    parts += [f"rule removed: {text}" for text in change.changes.get("rules_removed", [])]
    parts += [f"rule changed: {old} → {new}" for old, new in change.changes.get("rules_changed", [])]
    return "; ".join(parts) or "no visible change"


@admin.register(ICPChange)
class ICPChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["changed_at", "icp_name", "action", "actor", "summary"]
    list_filter = ["action"]
    list_select_related = ["actor"]
    search_fields = ["icp_name"]

    @admin.display(description="what changed")
    def summary(self, obj):
        return change_summary(obj)


@admin.register(SignalType)
class SignalTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "api_key", "kind", "lifetime_days"]
    list_editable = ["lifetime_days"]
    prepopulated_fields = {"key": ["name"]}

    @admin.display(description="key (what the API and imports send)", ordering="key")
    def api_key(self, obj):
        return obj.key

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rescore_all_later(reason=f"signal type {obj.name} changed")


class SignalForm(forms.ModelForm):
    class Meta:
        model = Signal
        fields = ["account", "type", "occurred_at", "value", "date", "source", "note"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("type"):
            signal_clean(type=cleaned["type"], value=cleaned.get("value"), date=cleaned.get("date"))
        return cleaned


@admin.register(Signal)
class SignalAdmin(ScopedAdminMixin, ScopedForeignKeyMixin, admin.ModelAdmin):
    """Reps log signals on accounts they can see; the list shows only those accounts'."""

    scoped_foreign_keys = {"account": accounts_visible_to}
    form = SignalForm

    @staticmethod
    def scope_selector(*, user):
        return Signal.objects.filter(account__in=accounts_visible_to(user=user))

    list_display = ["occurred_at", "account", "type", "value", "date", "source"]
    list_filter = ["type", "source"]
    list_select_related = ["account", "type"]
    autocomplete_fields = ["account"]
    search_fields = ["account__name", "account__domain", "source"]
    date_hierarchy = "occurred_at"

    def save_model(self, request, obj, form, change):
        if change:
            signal_update(signal=obj, actor=request.user)
        else:
            saved = signal_record(
                account=obj.account, type=obj.type, occurred_at=obj.occurred_at, value=obj.value, date=obj.date,
                source=obj.source, note=obj.note, actor=request.user,
            )
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        signal_delete(signal=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            account_ids = list(queryset.values_list("account_id", flat=True).distinct())
            queryset.delete()
            accounts_rescore(account_ids=account_ids)


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        obj.pk = 1
        super().save_model(request, obj, form, change)
        rescore_all_later(reason="tier and quadrant thresholds changed")


@admin.register(ScoreHistory)
class ScoreHistoryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    @staticmethod
    def scope_selector(*, user):
        return ScoreHistory.objects.filter(account__in=accounts_visible_to(user=user))

    list_display = ["changed_at", "account", "icp", "old_tier", "new_tier", "old_quadrant", "new_quadrant", "total_score"]
    list_filter = ["new_tier", "new_quadrant", "icp"]
    list_select_related = ["account", "icp"]
    raw_id_fields = ["account"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ResearchCategory)
class ResearchCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "active"]
    list_editable = ["position", "active"]
