"""The ICP refinement page and its way into the impact preview (apps.icps.refinement holds
the numbers and the proposals; ICPAdmin.get_urls mounts these two views).

A proposal opens the ICP's impact preview directly (GET …/icps/icp/<id>/propose/?rule=&points=):
the preview is computed by the same selector the change form uses, and its *Confirm and save*
posts the ICP's whole change form — built from the admin's own form and rule formset, with the
one edit applied — to the ordinary change view, so the save, its history row and the rescoring
are the admin's own.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from apps.icps import refinement
from apps.icps.models import CATEGORY_CAPS, Rule
from apps.icps.scoring import ICPSpec
from apps.icps.selectors import icp_impact_preview
from apps.reporting.tables import Column, Table

DEFINITIONS = [
    ("Return", "A return filed in the period, not rejected by ops (a rejected return said the account was fine) and "
               "not a retrieval (automatic, not a rep's word). Tiers are the returned accounts' as scored now."),
    ("Converted", "An account one of whose opportunities reached the pipeline stage (SAO) in the period."),
    ("Rule accounts / others", "The accounts matched to the rule's ICP on which the rule holds now (the same "
                               "compiled SQL the scoring uses), and the ICP's other matched accounts."),
    (refinement.TRIGGER_LABELS["returned_no_icp"],
     f"A rule whose accounts were returned No ICP fit at least {refinement.RETURN_RATIO:g}× as often as the ICP's other "
     f"accounts, at least {refinement.MIN_RETURNS} times → halve its points (seed 003: \u201cif there are a lot returned "
     "because they're not an ICP fit, you may need to review ICP criteria\u201d)."),
    (refinement.TRIGGER_LABELS["low_outperforms_high"],
     f"A lower tier converts at least {refinement.TIER_RATIO:g}× as well as a higher one (each with at least "
     f"{refinement.MIN_ACCOUNTS} accounts): the rules whose accounts convert {refinement.WORSE_RATIO:g}× worse than the "
     "ICP's others (or not at all while they do) are lifting the wrong accounts → halve their points (\u201chave the "
     "highly-scored accounts turned into qualified opportunities?\u201d)."),
    (refinement.TRIGGER_LABELS["include_what_converts"],
     f"A rule whose accounts convert at least {refinement.LIFT_RATIO:g}× as well as the ICP's others (at least "
     f"{refinement.MIN_CONVERSIONS} conversions) → raise its points by half, within the category's cap (\u201cthings you "
     "should include that you didn't at first\u201d)."),
    ("Proposal", "One per rule, the first trigger that fires. Nothing changes until you confirm it in the impact "
                 "preview, which shows how many accounts change tier first (\u201cfeedback without action means no more "
                 "feedback\u201d)."),
]


class PeriodForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def period(self) -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - dt.timedelta(days=89)
        return min(date_from, date_to), date_to


def refinement_tables(*, date_from: dt.date, date_to: dt.date) -> tuple[list[Table], list[refinement.Proposal], str | None]:
    reasons = refinement.returns_by_reason(date_from=date_from, date_to=date_to)
    tiers = refinement.conversion_by_tier(date_from=date_from, date_to=date_to)
    rules = refinement.rule_stats(date_from=date_from, date_to=date_to)
    proposals = refinement.proposals_from(rules=rules, tiers=tiers)
    tables = [
        Table("returns-by-reason", "Returns by reason", [
            Column("reason", "Reason", "text"), Column("returns", "Returns", "int", DEFINITIONS[0][1]),
            Column("share", "Share", "pct", "Of all returns in the period."),
            *[Column(f"tier_{code or 'none'}", label, "int") for code, label in refinement.TIERS],
        ], reasons),
        Table("conversion-by-tier", "Conversion by tier", [
            Column("label", "Tier", "text"), Column("accounts", "Accounts", "int", "Accounts in the tier now."),
            Column("converted", "Converted", "int", DEFINITIONS[1][1]), Column("conversion", "Conversion", "pct"),
            Column("returned_no_icp", "Returned No ICP fit", "int"), Column("returned_rate", "Returned rate", "pct"),
        ], tiers),
        Table("rules", "Scoring rules against returns and results", [
            Column("icp", "ICP", "text"), Column("rule", "Rule", "text"), Column("category_label", "Category", "text"),
            Column("points", "Points", "int"), Column("accounts", "Rule accounts", "int", DEFINITIONS[2][1]),
            Column("returned", "Returned No ICP fit", "int"), Column("returned_rate", "Returned rate", "pct"),
            Column("others_returned_rate", "Others' returned rate", "pct"),
            Column("converted", "Converted", "int"), Column("conversion", "Conversion", "pct"),
            Column("others_conversion", "Others' conversion", "pct"),
        ], rules),
        Table("proposals", "All proposals (the list above, as a table)", [
            Column("trigger_label", "Trigger", "text"), Column("icp", "ICP", "text"), Column("rule", "Rule", "text"),
            Column("points", "Points now", "int"), Column("proposed", "Proposed", "int"), Column("why", "Why", "text"),
        ], [vars(p) | {"trigger_label": p.trigger_label} for p in proposals]),
    ]
    return tables, proposals, refinement.tier_inversion(tiers)


def refinement_view(model_admin, request):
    if not request.user.has_perm("icps.view_icp"):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    date_from, date_to = form.period()
    tables, proposals, inverted = refinement_tables(date_from=date_from, date_to=date_to)
    export = request.GET.get("export")
    if export:
        table = next((t for t in tables if t.key == export), None)
        if table is None:
            return HttpResponse(f"This page has no table “{export}”.\n", status=400, content_type="text/plain; charset=utf-8")
        response = HttpResponse(table.to_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="icp-refinement-{slugify(table.key)}-{date_from}-{date_to}.csv"'
        return response
    query = request.GET.copy()
    query.pop("export", None)
    can_edit = request.user.has_perm("icps.change_icp")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "ICP refinement", "subtitle": None, "opts": model_admin.opts, "form": form,
        "date_from": date_from, "date_to": date_to, "tables": tables, "inverted": inverted,
        "proposals": [(p, p.preview_url if can_edit else None) for p in proposals],
        "definitions": DEFINITIONS, "query": query.urlencode(), "server_tz": timezone.get_current_timezone_name(),
    }
    return TemplateResponse(request, "admin/icps/icp/refinement.html", context)


def change_form_data(model_admin, request, icp, *, points: dict[int, int]) -> list[tuple[str, str]]:
    """The ICP change form as the admin would post it unedited — its own form and rule
    formset, each field's value as the widget sends it — with `points` (rule id → points)
    applied. The blank extra rule forms are left out."""
    pairs = [(bf.html_name, bf.value()) for bf in model_admin.get_form(request, icp, change=True)(instance=icp)]
    for FormSet, inline in model_admin.get_formsets_with_inlines(request, icp):
        formset = FormSet(instance=icp, prefix=FormSet.get_default_prefix(), queryset=inline.get_queryset(request))
        existing = formset.initial_forms
        prefix = formset.prefix
        pairs += [(f"{prefix}-TOTAL_FORMS", len(existing)), (f"{prefix}-INITIAL_FORMS", len(existing)),
                  (f"{prefix}-MIN_NUM_FORMS", 0), (f"{prefix}-MAX_NUM_FORMS", 1000)]
        for rule_form in existing:
            for bf in rule_form:
                value = bf.value()
                if bf.name == "points" and rule_form.instance.pk in points:
                    value = points[rule_form.instance.pk]
                pairs.append((bf.html_name, value))
    return [(name, "" if value is None else str(value)) for name, value in pairs]


def propose_view(model_admin, request, object_id):
    icp = model_admin.get_object(request, object_id)
    if icp is None:
        raise Http404
    if not model_admin.has_change_permission(request, icp):
        raise PermissionDenied
    rules = list(icp.rules.select_related("signal_type"))
    try:
        rule = next(r for r in rules if r.pk == int(request.GET.get("rule", "")))
        points = int(request.GET.get("points", ""))
    except (StopIteration, ValueError):
        raise Http404("No such rule in this ICP.")
    if rule.category == Rule.Category.QUALIFIER or not 0 <= points <= CATEGORY_CAPS[rule.category]:
        raise Http404("Points out of range for this rule.")
    before = rule.points
    rule.points = points  # in memory only: the preview scores the ICP as it would be
    preview = icp_impact_preview(proposed=ICPSpec.from_icp(icp, rules), replaces=icp.pk, proposed_active=icp.active)
    trigger = refinement.TRIGGER_LABELS.get(request.GET.get("trigger", ""), "")
    proposal = f"{trigger + ': ' if trigger else ''}{rule.describe()} ({rule.get_category_display()}) {before} → {points} points"
    hidden = change_form_data(model_admin, request, icp, points={rule.pk: points})
    return model_admin.preview_response(request, icp=icp, obj=icp, preview=preview, hidden=hidden, proposal=proposal,
                                        action=reverse("admin:icps_icp_change", args=[icp.pk]))
