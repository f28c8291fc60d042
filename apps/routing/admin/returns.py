"""The return/swap review queue with the SDR's return form, and account rest periods."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.accounts.models import Account
from apps.routing import selectors, services
from apps.routing.admin.common import _error_text
from apps.routing.forms import (
    ReturnFileForm,
    ReturnReviewForm,
)
from apps.routing.models import (
    AccountRest,
    ReturnOutcome,
    ReturnRequest,
)
from sdrops.access import accounts_visible_to, rep_for_user, returns_visible_to, user_sees_everything
from sdrops.admin_changelist import QuickChangelistMixin


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
class ReturnRequestAdmin(QuickChangelistMixin, admin.ModelAdmin):
    list_display = ["created_at", "account_link", "rep", "reason", "note_short", "swap_account", "status", "outcome", "review"]
    list_filter = [PendingFirstFilter, "reason", "outcome", ("rep", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["account", "rep", "swap_account"]
    search_fields = ["account_name", "rep__owner_name"]
    readonly_fields = [f.name for f in ReturnRequest._meta.fields]
    actions = ["approve_default", "mark_data_fixed"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return returns_visible_to(user=request.user)

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
