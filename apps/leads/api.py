"""REST API for lead cycles (read, disposition) and disposition reasons (read); rows limited
to the leads the user may work, writes through apps.leads.services."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.campaigns.qualification import lead_disposition_with_criteria
from apps.integrations.models import Scope
from apps.leads.models import DispositionReason, LeadCycle
from sdrops.access import lead_cycles_visible_to
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, UtcIsoDateTimeFilter


class LeadCycleOut(serializers.ModelSerializer):
    contact_email = serializers.EmailField(source="contact.email", read_only=True)
    # Read-only model fields lose allow_blank; blank means "not dispositioned yet".
    disposition = serializers.ChoiceField(choices=LeadCycle.Disposition.choices, allow_blank=True, read_only=True)
    exception_note = serializers.CharField(read_only=True, allow_blank=True)

    class Meta:
        model = LeadCycle
        fields = [
            "id", "contact", "contact_email", "number", "lead_type", "source", "campaign", "rep", "state",
            "assigned_at", "first_touch_at", "worked_at", "sla_target_at", "sla_maximum_at", "dispositioned_at",
            "disposition", "reason", "disposition_reason", "bypassed_working", "reassignment_count",
            # An exception (issue 22) is left out of every report number.
            "exception_reason", "exception_note", "exception_at",
        ]
        read_only_fields = fields


class LeadCycleFilter(django_filters.FilterSet):
    contact = django_filters.NumberFilter(field_name="contact_id")
    email = django_filters.CharFilter(method="filter_email", max_length=254)
    rep = django_filters.NumberFilter(field_name="rep_id")
    state = django_filters.ChoiceFilter(choices=LeadCycle.State.choices)
    assigned_since = UtcIsoDateTimeFilter(field_name="assigned_at", lookup_expr="gte")

    class Meta:
        model = LeadCycle
        fields = ["contact", "email", "rep", "state", "assigned_since"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(contact__email=value.strip().lower())


class DispositionReasonField(serializers.IntegerField):
    """A disposition reason given by id (GET /api/disposition-reasons/), validated to the
    reason itself; optional. Shared by lead and meeting dispositions."""

    def __init__(self, **kwargs):
        kwargs = {"min_value": 1, "max_value": 2**63 - 1, "required": False, "allow_null": True, **kwargs}
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # After the integer's own checks (range included), not in to_internal_value: the
        # range validators would compare the reason with numbers.
        pk = super().run_validation(data)
        if pk is None or pk is serializers.empty:
            return pk
        reason = DispositionReason.objects.filter(pk=pk).first()
        if reason is None:
            raise serializers.ValidationError(f"No disposition reason with id {pk}.")
        return reason


class CriteriaMetField(serializers.ListField):
    """The sales-ready criteria a qualified lead meets, by code (GET /api/qualification-criteria/);
    shared by lead and meeting dispositions. Left out: nothing is recorded unless a criterion is
    required — then it counts as none met (apps.campaigns.qualification)."""

    def __init__(self, **kwargs):
        kwargs = {
            "child": serializers.SlugField(max_length=40), "required": False, "max_length": 50,
            "help_text": ("For qualified: the codes of the sales-ready criteria the lead meets (GET "
                          "/api/qualification-criteria/); every active criterion is recorded as met or not. A required "
                          "criterion not met refuses the qualification unless a manager or ops sends override=true. "
                          "Left out: nothing is recorded, unless a criterion is required (then as none met)."),
            **kwargs,
        }
        super().__init__(**kwargs)


class DispositionIn(serializers.Serializer):
    disposition = serializers.ChoiceField(choices=LeadCycle.Disposition.choices)
    reason = DispositionReasonField(
        help_text="Disposition reason id (GET /api/disposition-reasons/); needed for nurture and unqualified.",
    )
    override = serializers.BooleanField(
        default=False, help_text="Qualify without a meeting or opportunity, or without a required sales-ready "
                                 "criterion (managers and ops only)."
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    criteria_met = CriteriaMetField()


@extend_schema_view(
    list=extend_schema(summary="List lead cycles in your scope", responses={200: LeadCycleOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One lead cycle", responses={200: LeadCycleOut, **ERROR_RESPONSES}),
)
class LeadCycleViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = LeadCycleOut
    filterset_class = LeadCycleFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_LEADS_ACTIVITIES}
    model_perms = {"GET": ["leads.view_leadcycle"], "POST": ["leads.view_leadcycle"]}

    def get_queryset(self):
        return lead_cycles_visible_to(user=self.request.user)

    @extend_schema(
        summary="Disposition a lead cycle: qualified, nurture or unqualified (with a reason)",
        request=DispositionIn, responses={200: LeadCycleOut, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def disposition(self, request, pk=None):
        cycle = self.get_object()
        data = DispositionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lead_disposition_with_criteria(
            cycle=cycle, disposition=values["disposition"], reason=values.get("reason"), actor=request.user,
            override=values["override"], note=values["note"], criteria_met=values.get("criteria_met"),
        )
        # The cycle as the caller left it, read by id: an SDR sees a lead outside their book only
        # while its cycle is open, so a scoped re-read of the cycle they just closed found nothing (500).
        return Response(LeadCycleOut(LeadCycle.objects.select_related("contact").get(pk=cycle.pk)).data)


class DispositionReasonOut(serializers.ModelSerializer):
    # Blank for reasons ops added (a SlugField would declare a pattern "" does not match).
    code = serializers.CharField(read_only=True, allow_blank=True)

    class Meta:
        model = DispositionReason
        fields = ["id", "disposition", "label", "code", "active"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Disposition reasons", responses={200: DispositionReasonOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One disposition reason", responses={200: DispositionReasonOut, **ERROR_RESPONSES}),
)
class DispositionReasonViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = DispositionReasonOut
    scopes = {"GET": Scope.READ}
    queryset = DispositionReason.objects.all()
    filterset_fields = ["disposition", "active"]
