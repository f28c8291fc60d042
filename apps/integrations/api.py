"""Inbound webhooks: the CRM sync endpoint."""

from __future__ import annotations

import datetime as dt

from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.integrations.models import Scope
from apps.integrations.services import CRM_KINDS, crm_delivery_receive
from apps.integrations.signing import (
    ID_HEADER,
    LEGACY_HEADER,
    SIGNATURE_HEADER,
    STANDARD_HEADERS,
    TIMESTAMP_HEADER,
    SignatureRefused,
    legacy_accepted,
    legacy_sunset,
    legacy_valid,
    standard_verify,
)
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
    event = serializers.ChoiceField(choices=list(CRM_KINDS))
    occurred_at = serializers.DateTimeField(help_text="When the change happened in the CRM; older never overwrites newer.")
    record_id = serializers.CharField(required=False, help_text="The CRM's record id (else the domain identifies it).")
    account = CrmAccountDoc(required=False)
    merge = CrmMergeDoc(required=False)
    opportunity = serializers.JSONField(
        required=False, help_text="opportunity.*: a Salesforce Opportunity, a HubSpot deal or our shape "
        "(docs/connections.md); keyed by the CRM's id.")
    contact = serializers.JSONField(required=False, help_text="contact.upsert: a Salesforce/HubSpot contact or ours.")


class CrmAnswerDoc(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=["created", "updated", "stale", "merge_recorded", "linked", "merged", "relinked"])
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
            OpenApiParameter(ID_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                             description="Standard Webhooks: unique per delivery, the same on every retry; "
                                         "a repeat returns the first answer and changes nothing."),
            OpenApiParameter(TIMESTAMP_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                             description="Standard Webhooks: Unix seconds of this attempt; more than 5 minutes "
                                         "from the server's clock is refused (401)."),
            OpenApiParameter(SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                             description="Standard Webhooks: v1,<base64 HMAC-SHA256 of “id.timestamp.body”> "
                                         "with the integration's secret (whsec_…)."),
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                             description="Deprecated scheme only (with X-Sdrops-Signature): unique per delivery."),
            OpenApiParameter(LEGACY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                             description="Deprecated: sha256=<hex HMAC-SHA256 of the raw body>; accepted until "
                                         "WEBHOOK_LEGACY_SIGNATURE_UNTIL."),
        ],
        responses={200: CrmAnswerDoc, 409: ERROR_RESPONSES[400], **ERROR_RESPONSES},
    )
    def post(self, request):
        integration = request_integration(request)
        if integration is None:
            raise exceptions.NotAuthenticated("Use an integration token.")
        body = request.body
        headers = {}
        if any(name in request.headers for name in STANDARD_HEADERS) or not legacy_accepted():
            try:
                key = standard_verify(secret=integration.secret, headers=request.headers, body=body)
            except SignatureRefused as refusal:
                raise exceptions.AuthenticationFailed(str(refusal))
            answer = crm_delivery_receive(integration=integration, idempotency_key=key, body=body, key_header=ID_HEADER)
        else:
            if not legacy_valid(secret=integration.secret, body=body, signature=request.headers.get(LEGACY_HEADER)):
                raise exceptions.AuthenticationFailed(
                    f"Missing or bad signature: sign with Standard Webhooks ({', '.join(STANDARD_HEADERS)}), or "
                    f"(deprecated) {LEGACY_HEADER}: sha256=<hex HMAC-SHA256 of the raw body>."
                )
            answer = crm_delivery_receive(
                integration=integration, idempotency_key=request.headers.get("Idempotency-Key", ""), body=body,
                legacy_signature=True,
            )
            # RFC 9745 / RFC 8594: tell the sender the scheme is on its way out.
            headers["Deprecation"] = "true"
            headers["Sunset"] = http_date(dt.datetime.combine(legacy_sunset(), dt.time.max, dt.UTC).timestamp())
        if answer.replayed:
            headers["Idempotency-Replayed"] = "true"
        return Response(answer.body, status=answer.status, headers=headers)
