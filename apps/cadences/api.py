"""REST API for follow-up tasks (issue 22 item 6): list and read in scope, log one on a lead
or an account, complete it (logging its activity) or cancel it. Ids from the caller resolve
through sdrops.access, so a hidden lead, account or rep answers as a missing one."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.cadences import follow_ups
from apps.cadences.forms import LOGGABLE_TYPES
from apps.cadences.models import FollowUpTask
from apps.integrations.models import Scope
from sdrops.access import (
    accounts_visible_to,
    contacts_for_lead_work,
    follow_ups_visible_to,
    rep_for_user,
    reps_visible_to,
)
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, UtcIsoDateTimeFilter

ID = {"min_value": 1, "max_value": 2**63 - 1}


class FollowUpOut(serializers.ModelSerializer):
    class Meta:
        model = FollowUpTask
        fields = ["id", "rep", "contact", "account", "lead_cycle", "title", "due_at", "status", "created_at",
                  "completed_at", "activity", "reminded_at"]
        read_only_fields = fields


class FollowUpIn(serializers.Serializer):
    contact = serializers.IntegerField(**ID, required=False, allow_null=True, help_text="The lead (contact id).")
    account = serializers.IntegerField(**ID, required=False, allow_null=True,
                                       help_text="An account, for a follow-up not on one lead.")
    rep = serializers.IntegerField(**ID, required=False, allow_null=True, help_text="Who holds it; default: the caller.")
    title = serializers.CharField(max_length=200)
    due_at = serializers.DateTimeField()

    def validate(self, attrs):
        if not attrs.get("contact") and not attrs.get("account"):
            raise serializers.ValidationError({"contact": ["Give contact or account."]})
        return attrs


class FollowUpDoneIn(serializers.Serializer):
    activity_type = serializers.ChoiceField(choices=LOGGABLE_TYPES, default="call",
                                            help_text="The activity logged for the follow-up.")
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class FollowUpCancelIn(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="",
                                 help_text="Why it is no longer needed (kept in the task's history).")


class FollowUpFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FollowUpTask.Status.choices)
    rep = django_filters.NumberFilter(field_name="rep_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    account = django_filters.NumberFilter(field_name="account_id")
    due_before = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = FollowUpTask
        fields = ["status", "rep", "contact", "account", "due_before"]


@extend_schema_view(
    list=extend_schema(summary="List follow-up tasks in your scope", responses={200: FollowUpOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One follow-up task", responses={200: FollowUpOut, **ERROR_RESPONSES}),
)
class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = FollowUpOut
    filterset_class = FollowUpFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_LEADS_ACTIVITIES}
    model_perms = {"GET": ["cadences.view_followuptask"], "POST": ["cadences.add_followuptask"]}

    def get_queryset(self):
        return follow_ups_visible_to(user=self.request.user).order_by("due_at", "pk")

    def get_permissions(self):
        if self.action in ("complete", "cancel"):
            self.model_perms = {"POST": ["cadences.change_followuptask"]}
        return super().get_permissions()

    @extend_schema(summary="Log a follow-up task on a lead or an account", request=FollowUpIn,
                   responses={201: FollowUpOut, **ERROR_RESPONSES})
    def create(self, request):
        data = FollowUpIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contact = account = None
        if values.get("account"):
            account = accounts_visible_to(user=request.user).filter(pk=values["account"]).first()
            if account is None:
                raise serializers.ValidationError({"account": [f"No account with id {values['account']} in your scope."]})
        if values.get("contact"):
            contact = contacts_for_lead_work(user=request.user).filter(pk=values["contact"]).first()
            if contact is None:
                raise serializers.ValidationError({"contact": [f"No contact with id {values['contact']} in your scope."]})
            if account is not None and contact.account_id != account.pk:
                raise serializers.ValidationError({"account": ["The contact is not at that account: give one of them."]})
        if values.get("rep"):
            rep = reps_visible_to(user=request.user).filter(pk=values["rep"]).first()
            if rep is None:
                raise serializers.ValidationError({"rep": [f"No rep with id {values['rep']} in your scope."]})
        else:
            rep = rep_for_user(request.user)
            if rep is None:
                raise serializers.ValidationError({"rep": ["Name the rep who holds the follow-up."]})
        task = follow_ups.follow_up_create(rep=rep, contact=contact, account=account, title=values["title"],
                                           due_at=values["due_at"], actor=request.user)
        return Response(FollowUpOut(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Complete a follow-up task (logs its activity)", request=FollowUpDoneIn,
                   responses={200: FollowUpOut, **ERROR_RESPONSES})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        data = FollowUpDoneIn(data=request.data)
        data.is_valid(raise_exception=True)
        task = follow_ups.follow_up_complete(task=task, actor=request.user, **data.validated_data)
        return Response(FollowUpOut(task).data)

    @extend_schema(summary="Cancel a follow-up task", request=FollowUpCancelIn, responses={200: FollowUpOut, **ERROR_RESPONSES})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        task = self.get_object()
        data = FollowUpCancelIn(data=request.data)
        data.is_valid(raise_exception=True)
        task = follow_ups.follow_up_cancel(task=task, actor=request.user, note=data.validated_data["note"])
        return Response(FollowUpOut(task).data)
