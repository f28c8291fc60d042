from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.accounts.forms import AccountAdminForm, AssignOwnerForm, DomainAliasForm, WebmailDomainForm
from apps.accounts.imports.admin import AccountImportExportMixin  # also registers ImportRecordAdmin
from apps.accounts.models import (
    Account,
    Activity,
    DomainAlias,
    OwnershipEvent,
    OwnershipReason,
    WebmailDomain,
)
from apps.accounts.selectors import account_ownership_history, account_recent_activities
from apps.accounts.services import account_owners_set, account_set_owner
from apps.cadences.services import activity_create, activity_validate
from apps.icps.account_admin import (
    ACCOUNT_SCORING_FILTERS,
    ACCOUNT_SCORING_INLINES,
    ACCOUNT_SCORING_READONLY,
    AccountScoringAdminMixin,
)
from apps.markets.account_admin import (
    ACCOUNT_MARKET_FILTERS,
    ACCOUNT_MARKET_READONLY,
    AccountMarketAdminMixin,
)
from apps.people.models import Contact
from sdrops.access import (
    accounts_visible_to,
    activities_visible_to,
    contacts_visible_to,
    ownership_events_visible_to,
    reps_visible_to,
)
from sdrops.admin_changelist import QuickChangelistMixin
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedForeignKeyMixin

OWNER_FIELDS = ("owner", "sdr_owner", "opportunity_owner", "cs_owner")


class DomainAliasInline(admin.TabularInline):
    model = DomainAlias
    form = DomainAliasForm
    extra = 0
    fields = ["domain", "matching_key", "created_at"]
    readonly_fields = ["matching_key", "created_at"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["first_name", "last_name", "email", "title", "buying_role", "source"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PoolFilter(admin.SimpleListFilter):
    title = "book"
    parameter_name = "book"

    def lookups(self, request, model_admin):
        return [("pool", "In the pool (no owner)"), ("owned", "Owned")]

    def queryset(self, request, queryset):
        if self.value() == "pool":
            return queryset.filter(owner__isnull=True)
        if self.value() == "owned":
            return queryset.filter(owner__isnull=False)
        return queryset


@admin.register(Account)
class AccountAdmin(
    AccountImportExportMixin, AccountScoringAdminMixin, AccountMarketAdminMixin, QuickChangelistMixin, ScopedAdminMixin,
    ScopedForeignKeyMixin, admin.ModelAdmin,
):
    scope_selector = accounts_visible_to
    form = AccountAdminForm

    def view_on_site(self, obj):
        """The change form's "View on site" opens the account's record page (apps/workspace)."""
        return reverse("admin:workspace_account_record", args=[obj.pk])
    list_display = [
        "name", "domain", "segment", "status", "owner", "matched_icp", "tier", "total_score", "quadrant_display",
        "owner_since",
    ]
    list_select_related = ["owner", "matched_icp"]
    list_only = ("name", "domain", "segment", "status", "owner__owner_name", "matched_icp__name", "tier",
                 "total_score", "quadrant", "owner_since")
    list_filter = [PoolFilter, "status", "segment", *ACCOUNT_SCORING_FILTERS, *ACCOUNT_MARKET_FILTERS, "owner",
                   "owner__team"]
    search_fields = ["name", "domain", "aliases__domain", "owner__owner_name"]
    search_help_text = "Search by name, domain, alias or owner name."
    autocomplete_fields = list(OWNER_FIELDS)
    list_per_page = 100
    show_full_result_count = False
    ordering = ["name"]
    inlines = [DomainAliasInline, ContactInline, *ACCOUNT_SCORING_INLINES]
    actions = ["assign_owner", "override_market_segment", "export_market_coverage"]
    readonly_fields = [
        "matching_key", "owner_since", "matched_icp", "fit_score", "opportunity_score", "readiness_score",
        "total_score", "tier", "quadrant", "scored_at", "created_at", "updated_at",
        "recent_activities", "ownership_history", *ACCOUNT_SCORING_READONLY, *ACCOUNT_MARKET_READONLY,
    ]
    fieldsets = [
        (None, {"fields": ["name", "website", "domain", "matching_key", "keep_subdomain", "status", "segment"]}),
        ("Firmographics", {"fields": ["industry", "employees", "annual_revenue", "country", "region", "technologies"]}),
        ("Ownership", {"fields": ["owner", "owner_since", "sdr_owner", "opportunity_owner", "cs_owner"]}),
        ("Score", {"fields": ["matched_icp", "total_score", "tier", "quadrant_display", "fit_score", "opportunity_score",
                              "readiness_score", "scored_at", "score_breakdown", "research_progress"]}),
        ("Market", {"fields": ["market_segment"]}),
        ("Recent activities", {"fields": ["recent_activities"]}),
        ("Ownership history", {"fields": ["ownership_history"]}),
        ("Record", {"classes": ["collapse"], "fields": ["created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("accounts.change_account_owner"):
            fields += list(OWNER_FIELDS)
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in OWNER_FIELDS:
            kwargs["queryset"] = reps_visible_to(user=request.user).filter(active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The owner is never saved by the form: the ownership service records the change.
        new_owner = obj.owner
        obj.owner = Account.objects.get(pk=obj.pk).owner if change else None
        super().save_model(request, obj, form, change)
        if "owner" in form.changed_data or (not change and new_owner is not None):
            account_set_owner(
                account=obj, to_rep=new_owner, reason=OwnershipReason.MANUAL, actor=request.user,
                note="Changed on the account page",
            )

    @admin.display(description="Recent activities")
    def recent_activities(self, obj):
        if not obj.pk:
            return "—"
        rows = account_recent_activities(account=obj)
        if not rows:
            return "No activities yet."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (a.occurred_at.strftime("%Y-%m-%d %H:%M"), a.get_type_display(), a.rep or "—", a.contact or "—",
                 "automated" if a.automated else "", a.subject)
                for a in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Type</th><th>Rep</th><th>Contact</th><th></th><th>Subject</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="Ownership history")
    def ownership_history(self, obj):
        if not obj.pk:
            return "—"
        rows = account_ownership_history(account=obj)
        if not rows:
            return "Never owned."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.from_rep or "pool", e.to_rep or "pool",
                 e.get_reason_display(), e.actor or "system", e.note)
                for e in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>From</th><th>To</th><th>Why</th><th>By</th><th>Note</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            body,
        )

    def has_change_owner_permission(self, request):
        return request.user.has_perm("accounts.change_account_owner")

    @admin.action(description="Assign selected accounts to a rep (or the pool)…", permissions=["change_owner"])
    def assign_owner(self, request, queryset):
        form = AssignOwnerForm(request.POST if "apply" in request.POST else None)
        form.fields["owner"].queryset = reps_visible_to(user=request.user).filter(active=True)
        if "apply" in request.POST and form.is_valid():
            owner = form.cleaned_data["owner"]
            try:
                with transaction.atomic():
                    events = account_owners_set(
                        changes=[(pk, owner.pk if owner else None) for pk in queryset.values_list("pk", flat=True)],
                        reason=OwnershipReason.MANUAL,
                        actor=request.user,
                        note=form.cleaned_data["note"],
                    )
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
                return None
            self.message_user(
                request, f"{len(events)} account(s) assigned to {owner or 'the pool'}; "
                f"{queryset.count() - len(events)} already were.", messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/accounts/account/assign_owner.html",
            {
                **self.admin_site.each_context(request),
                "title": "Assign accounts",
                "opts": self.model._meta,
                "form": form,
                "accounts": queryset.select_related("owner")[:200],
                "count": queryset.count(),
                "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(DomainAlias)
class DomainAliasAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = DomainAliasForm
    list_display = ["domain", "account", "matching_key", "created_at"]
    list_select_related = ["account"]
    search_fields = ["domain", "account__name"]
    autocomplete_fields = ["account"]
    fields = ["account", "domain"]

    @staticmethod
    def scope_selector(*, user):
        return DomainAlias.objects.filter(account__in=accounts_visible_to(user=user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = accounts_visible_to(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ActivityAdminForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["type", "rep", "account", "contact", "occurred_at", "automated", "subject"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            # The rules of the one writer (apps.cadences.services.activity_create), shown on
            # the form; save_model then logs through it.
            activity_validate(type=cleaned.get("type"), contact=cleaned.get("contact"),
                              account=cleaned.get("account"), occurred_at=cleaned.get("occurred_at"))
        return cleaned


@admin.register(Activity)
class ActivityAdmin(QuickChangelistMixin, ScopedAdminMixin, ScopedForeignKeyMixin, admin.ModelAdmin):
    """A new activity goes through activity_create, like one logged on the lead page: a real
    touch moves the lead to working (with its response time) and completes the cadence step.
    Editing an existing activity only changes the row (the lead and cadence do not move again)."""

    form = ActivityAdminForm
    scope_selector = activities_visible_to
    scoped_foreign_keys = {"account": accounts_visible_to, "contact": contacts_visible_to, "rep": reps_visible_to}
    date_hierarchy = "occurred_at"
    list_display = ["occurred_at", "type", "rep", "account", "contact", "automated", "subject"]
    list_select_related = ["rep", "account", "contact"]
    list_filter = ["type", "automated", "rep", "rep__team"]
    search_fields = ["subject", "account__name", "account__domain", "contact__email"]
    autocomplete_fields = ["rep", "account", "contact"]
    list_per_page = 100
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = activity_create(
            type=obj.type, contact=obj.contact, account=obj.account, rep=obj.rep, occurred_at=obj.occurred_at,
            automated=obj.automated, subject=obj.subject, actor=request.user,
        )
        # The admin logs the addition and redirects with `obj`: make it the saved row.
        obj.pk, obj.account_id, obj.created_at = created.pk, created.account_id, created.created_at
        obj._state.adding, obj._state.db = False, created._state.db


@admin.register(OwnershipEvent)
class OwnershipEventAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = ownership_events_visible_to
    list_display = ["occurred_at", "account", "from_rep", "to_rep", "reason", "actor", "note"]
    list_select_related = ["account", "from_rep", "to_rep", "actor"]
    list_filter = ["reason", "to_rep"]
    search_fields = ["account__name", "account__domain", "note"]
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False


@admin.register(WebmailDomain)
class WebmailDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "note"]
    search_fields = ["domain"]
    form = WebmailDomainForm
