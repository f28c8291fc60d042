"""The first-come claim-next queue."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import path

from apps.routing import services
from apps.routing.admin.common import _error_text
from apps.routing.models import (
    QueueItem,
)
from sdrops.access import queue_items_visible_to, rep_for_user


@admin.register(QueueItem)
class QueueItemAdmin(admin.ModelAdmin):
    change_list_template = "admin/routing/queueitem/change_list.html"
    list_display = ["created_at", "contact", "account", "rule", "claimed_by", "claimed_at"]
    list_filter = ["rule", ("claimed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["contact", "account", "rule", "claimed_by"]
    readonly_fields = ["rule", "contact", "account", "created_at", "claimed_by", "claimed_at"]

    def get_queryset(self, request):
        # The queues the user's reps claim from (ops: all): another team's leads stay hidden.
        return queue_items_visible_to(user=request.user).select_related(*self.list_select_related)

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
