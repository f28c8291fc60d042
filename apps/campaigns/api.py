"""Campaigns and the sales-ready criteria over the API: read-only (ops keep them in the admin);
a CRM or marketing system looks up the campaign id or name it sends with POST /api/leads/
(`campaign`), and the criterion codes it sends as `criteria_met` when it qualifies a lead or
dispositions a meeting Completed – Qualified."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apps.campaigns.models import Campaign, QualificationCriterion
from apps.integrations.models import Scope
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES


class CampaignOut(serializers.ModelSerializer):
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, coerce_to_string=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "source", "channel", "offer", "goal", "starts_on", "ends_on", "cost", "owner", "cadence"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Campaigns", responses={200: CampaignOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One campaign", responses={200: CampaignOut, **ERROR_RESPONSES}),
)
class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = CampaignOut
    scopes = {"GET": Scope.READ}
    queryset = Campaign.objects.all()
    filterset_fields = ["offer", "source", "goal"]


class QualificationCriterionOut(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True, help_text="What `criteria_met` lists.")
    help_text = serializers.CharField(read_only=True, allow_blank=True)

    class Meta:
        model = QualificationCriterion
        fields = ["id", "code", "label", "help_text", "required", "active", "position"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Sales-ready qualification criteria", responses={200: QualificationCriterionOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One qualification criterion", responses={200: QualificationCriterionOut, **ERROR_RESPONSES}),
)
class QualificationCriterionViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = QualificationCriterionOut
    scopes = {"GET": Scope.READ}
    queryset = QualificationCriterion.objects.all()
    filterset_fields = ["active", "required"]
