"""Pieces for the account admin (apps/accounts/admin.py): the score breakdown, research
progress, signal / score history / research inlines, and a mixin that wires them.

    class AccountAdmin(AccountScoringAdminMixin, admin.ModelAdmin):
        inlines = [..., *ACCOUNT_SCORING_INLINES]
        list_filter = [..., *ACCOUNT_SCORING_FILTERS]
        readonly_fields = [..., *ACCOUNT_SCORING_READONLY]
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.icps.admin_filters import MatchedICPFilter, QuadrantFilter, ResearchCompletenessFilter, TierFilter
from apps.icps.models import CATEGORY_CAPS, Quadrant, ResearchItem, ScoreHistory, Signal
from apps.icps.selectors import Explanation, account_research_progress, account_score_explain
from apps.icps.services import account_changed, signal_clean
from sdrops.access import activities_visible_to

CATEGORY_LABELS = {"fit": "Fit", "opportunity": "Opportunity", "readiness": "Readiness"}


# Looked up per changelist row: `Quadrant.values` builds a new list on every access.
QUADRANT_LABELS = {quadrant.value: quadrant.label for quadrant in Quadrant}


def quadrant_label(value: str) -> str:
    return QUADRANT_LABELS.get(value, "—")


def score_breakdown_html(explanation: Explanation, *, stored_total: int | None = None) -> SafeString:
    """The explanation as HTML: rules that gave points, caps that cut them, other ICPs."""
    m = explanation.matched
    if m is None:
        head = format_html('<p class="score-summary">{}</p>', "No ICP match, so no score and no tier.")
    else:
        head = format_html(
            '<p class="score-summary">Matched ICP <strong>{}</strong>: total <strong data-total="{}">{}</strong>'
            " (fit {}/40, opportunity {}/30, readiness {}/30) · tier <strong data-tier=\"{}\">{}</strong> · {}</p>",
            m.name, m.total, m.total, m.scores["fit"], m.scores["opportunity"], m.scores["readiness"],
            explanation.tier, explanation.tier, quadrant_label(explanation.quadrant),
        )
    rows = []
    if m is not None:
        for category in ("fit", "opportunity", "readiness"):
            for hit in [h for h in m.hits if h.category == category]:
                rows.append((CATEGORY_LABELS[category], hit.text, f"+{hit.points}"))
            if m.cut[category]:
                rows.append(
                    (CATEGORY_LABELS[category], f"cap of {CATEGORY_CAPS[category]} reached", f"−{m.cut[category]}")
                )
    table = (
        format_html(
            '<table class="score-breakdown"><thead><tr><th>Category</th><th>Rule</th><th>Points</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )
        if rows
        else ""
    )
    others = []
    for e in explanation.icps:
        if m is not None and e.icp_id == m.icp_id:
            continue
        if e.qualified:
            others.append((e.name, f"qualifies with {e.total} (lower)"))
        else:
            others.append((e.name, "not matched: " + "; ".join(e.failed_qualifiers)))
    other_html = (
        format_html("<p>Other ICPs:</p><ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", others)) if others else ""
    )
    stale = ""
    if stored_total is not None and stored_total != explanation.total:
        stale = format_html(
            '<p class="errornote">The stored total ({}) is older than this explanation ({}); it is refreshed on the next rescoring.</p>',
            stored_total, explanation.total,
        )
    return format_html('<div class="score-explanation">{}{}{}{}</div>', head, table, other_html, stale)


def account_score_breakdown(account) -> SafeString | str:
    if account is None or account.pk is None:
        return "—"
    link = reverse("admin:icps_account_score", args=[account.pk])
    return format_html(
        '{}<p><a href="{}">Full score page</a></p>',
        score_breakdown_html(account_score_explain(account=account), stored_total=account.total_score), link,
    )


class SignalInlineForm(forms.ModelForm):
    class Meta:
        model = Signal
        fields = ["type", "occurred_at", "value", "date", "source", "note"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("type"):
            signal_clean(type=cleaned["type"], value=cleaned.get("value"), date=cleaned.get("date"))
        return cleaned


class SignalInline(admin.TabularInline):
    model = Signal
    form = SignalInlineForm
    extra = 0
    fields = ["type", "occurred_at", "value", "date", "source", "note"]
    ordering = ["-occurred_at"]
    show_change_link = True


class ScoreHistoryInline(admin.TabularInline):
    model = ScoreHistory
    extra = 0
    can_delete = False
    fields = ["changed_at", "icp", "old_tier", "new_tier", "old_quadrant", "new_quadrant", "total_score"]
    readonly_fields = fields
    verbose_name_plural = "score history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ResearchItemInline(admin.TabularInline):
    model = ResearchItem
    extra = 0
    fields = ["category", "done_at", "done_by", "activity"]
    readonly_fields = ["done_by"]
    raw_id_fields = ["activity"]
    verbose_name_plural = "research checklist (ticked categories)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "activity":
            # The activity that did the research: one the user sees, never another book's.
            kwargs["queryset"] = activities_visible_to(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AccountScoringAdminMixin:
    """Score columns and breakdown on the account admin; saving an account (or its signals
    inline) rescores it through apps.icps.services.account_changed."""

    @admin.display(description="score breakdown")
    def score_breakdown(self, obj):
        return account_score_breakdown(obj)

    @admin.display(description="quadrant", ordering="quadrant")
    def quadrant_display(self, obj):
        return quadrant_label(obj.quadrant)

    @admin.display(description="research")
    def research_progress(self, obj):
        done, total = account_research_progress(account=obj)
        return f"{done}/{total}"

    def save_formset(self, request, form, formset, change):
        if formset.model is ResearchItem:
            # Ticked on the account page: the person who ticked did the research.
            for item in formset.save(commit=False):
                if item.pk is None:
                    item.done_by = request.user
                item.save()
            for item in formset.deleted_objects:
                item.delete()
            return
        super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        account_changed(account=form.instance)


ACCOUNT_SCORING_INLINES = [SignalInline, ScoreHistoryInline, ResearchItemInline]
ACCOUNT_SCORING_FILTERS = [MatchedICPFilter, TierFilter, QuadrantFilter, ResearchCompletenessFilter]
ACCOUNT_SCORING_READONLY = [
    "score_breakdown", "quadrant_display", "research_progress", "matched_icp", "fit_score", "opportunity_score",
    "readiness_score", "total_score", "tier", "scored_at",
]
