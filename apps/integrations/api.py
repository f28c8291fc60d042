"""Inbound webhooks: the CRM sync endpoint."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.integrations.models import Scope
from apps.integrations.services import CRM_SIGNATURE_HEADER, crm_delivery_receive, signature_valid
from sdrops.api.authentication import IntegrationTokenAuthentication
from sdrops.api.permissions import ScopedPermission, request_integration
from sdrops.api.support import ERROR_RESPONSES


class CrmAccountDoc(serializers.Serializer):
    domain = serializers.CharField(help_text="The account's domain or website; the record is found by it.")
    name = serializers.CharField(required=False)
    owner_name = serializers.CharField(
        required=False, allow_null=True,
        help_text="The rep's owner name (case and spacing ignored); null or empty: back to the pool; absent: unchanged.",
    )
    website = serializers.CharField(required=False)
    industry = serializers.CharField(required=False)
    employees = serializers.IntegerField(required=False)
    country = serializers.CharField(required=False)
    region = serializers.CharField(required=False)
    segment = serializers.CharField(required=False)
    status = serializers.CharField(required=False)


class CrmMergeDoc(serializers.Serializer):
    domain = serializers.CharField(help_text="The merged-away record's domain.")
    merged_into_domain = serializers.CharField()


class CrmDeliveryDoc(serializers.Serializer):
    event = serializers.ChoiceField(choices=["account.upsert", "account.merged"])
    occurred_at = serializers.DateTimeField(help_text="When the change happened in the CRM; older never overwrites newer.")
    record_id = serializers.CharField(required=False, help_text="The CRM's record id (else the domain identifies it).")
    account = CrmAccountDoc(required=False)
    merge = CrmMergeDoc(required=False)


class CrmAnswerDoc(serializers.Serializer):
    result = serializers.ChoiceField(choices=["created", "updated", "stale", "merge_recorded"])
    account_id = serializers.IntegerField(required=False, allow_null=True)
    detail = serializers.CharField(required=False)


class CrmWebhookView(APIView):
    """Integrations only: the token says who is calling, the signature proves the body."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [ScopedPermission]
    scopes = {"POST": Scope.WRITE_ACCOUNTS}

    @extend_schema(
        summary="CRM sync: account upsert by domain, owner by owner name, merge notice",
        request=CrmDeliveryDoc,
        parameters=[
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                             description="Unique per delivery; a repeat returns the first answer and changes nothing."),
            OpenApiParameter(CRM_SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                             description="sha256=<hex HMAC-SHA256 of the raw body with the integration's secret>."),
        ],
        responses={200: CrmAnswerDoc, 409: ERROR_RESPONSES[400], **ERROR_RESPONSES},
    )
    def post(self, request):
        integration = request_integration(request)
        if integration is None:
            raise exceptions.NotAuthenticated("Use an integration token.")
        body = request.body
        if not signature_valid(secret=integration.secret, body=body, signature=request.headers.get(CRM_SIGNATURE_HEADER)):
            raise exceptions.AuthenticationFailed(
                f"Missing or bad {CRM_SIGNATURE_HEADER}: expected sha256=<hex HMAC-SHA256 of the raw body>."
            )
        answer = crm_delivery_receive(
            integration=integration, idempotency_key=request.headers.get("Idempotency-Key", ""), body=body
        )
        headers = {"Idempotency-Replayed": "true"} if answer.replayed else {}
        return Response(answer.body, status=answer.status, headers=headers)
