"""Distribution preview and commit."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.routing import selectors, services
from apps.routing.admin.common import _error_text
from apps.routing.forms import (
    DistributionPreviewForm,
)
from apps.routing.models import (
    Distribution,
)


@admin.register(Distribution)
class DistributionAdmin(admin.ModelAdmin):
    change_list_template = "admin/routing/distribution/change_list.html"
    list_display = ["pk", "created_at", "status", "team", "segment", "play", "accounts", "created_by", "committed_at", "preview_link"]
    list_filter = ["status", "segment"]
    list_select_related = ["team", "created_by", "play"]
    readonly_fields = ["status", "team", "segment", "play", "created_by", "created_at", "committed_at", "note", "summary_table"]
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
                actor=request.user, team=form.cleaned_data["team"], segment=form.cleaned_data["segment"] or None,
                play=form.cleaned_data["play"],
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
