"""What every API view shares: the size-capped JSON parser, cursor pagination, and one
error body for everything — `{"detail": "...", "errors": {field: [messages]}}` — so a
client never parses a 500 or an HTML page."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from apps.integrations.jsonbody import JsonRefused, json_body_loads

# At most this many items in one bulk request (activities, …).
MAX_BULK_ITEMS = 1000


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    """JSONParser reading at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes. DRF hands parsers the
    raw request stream, which skips Django's own size check."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raise exceptions.ParseError("The request has no body.")
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_body_loads(raw, encoding=encoding)
        except JsonRefused as error:
            raise exceptions.ParseError(f"JSON parse error: {error}")


class IdCursorPagination(CursorPagination):
    """Stable pages over large, changing lists (offsets skip or repeat rows as rows arrive)."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({self.cursor_query_param: ["Invalid cursor: use the next/previous links."]})


def django_error_messages(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def _as_field_messages(detail) -> dict:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def exception_handler(exc, context):
    # Imported here: rest_framework.views reads the API settings, which name this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_error_messages(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, IntegrityError):
        return Response({"detail": "This conflicts with an existing record.", "errors": {}}, status=409)
    elif isinstance(exc, DataError):
        return Response({"detail": "A value is out of range for its field.", "errors": {}}, status=400)
    elif isinstance(exc, RecursionError):
        # The parser refuses deep bodies (apps/integrations/jsonbody.py); this catches any
        # other path that recursed on the caller's input, so it is still their 400.
        return Response({"detail": "The input is nested too deeply.", "errors": {}}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "errors": _as_field_messages(exc.detail)}
    elif isinstance(exc, exceptions.Throttled):
        request = context.get("request")
        integration = getattr(request, "auth", None)
        whose = f" for the integration “{integration.name}”" if hasattr(integration, "throttle_rate") else ""
        response.data = {
            "detail": f"Rate limit exceeded{whose}. Try again in {exc.wait or 1:.0f} seconds.",
            "errors": {},
            "retry_after": int(exc.wait or 1),
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail), "errors": {}}
    return response


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (for the schema)."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.JSONField(), help_text="Field name → list of messages (nested for list items)."
    )
    retry_after = serializers.IntegerField(required=False, help_text="Only on 429: seconds to wait.")


ERROR_RESPONSES = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    413: ErrorSerializer,
    429: ErrorSerializer,
}


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 query parameter, in UTC: PostgreSQL refuses offsets beyond ±15:59 that
    Python parses happily (a 500 otherwise), and year 1 minus an offset overflows."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This date and time is out of range.", code="invalid")


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
