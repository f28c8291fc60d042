"""Campaigns over the API: read-only (ops keep them in the admin); a CRM or marketing system
looks up the id or name it sends with POST /api/leads/ (`campaign`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apps.campaigns.models import Campaign
from apps.integrations.api_support import ERROR_RESPONSES
from apps.integrations.models import Scope
from apps.integrations.permissions import ScopedPermission


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
