"""GET /api/reports/ and /api/reports/<slug>/: every report page's numbers as JSON, with the
page's own filters (date_from, date_to, team, rep, segment, lead_type and its parameters) and
the same scoping — the same ReportFilterSet, Scope and report_compute the pages use."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.integrations.models import Scope
from apps.reporting.reports import REPORTS, reports_in_order
from apps.reporting.views import report_compute, reports_allowed
from sdrops.api.permissions import ScopedPermission
from sdrops.api.scope import ReportFilterSet
from sdrops.api.support import ERROR_RESPONSES


def plain(value):
    """A JSON-safe value: non-finite floats become null (JSON has no NaN)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return str(value)


class ColumnOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    definition = serializers.CharField(allow_blank=True)


class TableOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    columns = ColumnOut(many=True)
    rows = serializers.ListField(child=serializers.DictField(child=serializers.JSONField(allow_null=True)))
    total = serializers.DictField(child=serializers.JSONField(allow_null=True), allow_null=True)
    note = serializers.CharField(allow_blank=True)


class ReportOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    filters = serializers.DictField(child=serializers.JSONField(allow_null=True))
    computed_at = serializers.DateTimeField()
    summary = serializers.ListField(child=serializers.ListField(child=serializers.CharField(allow_blank=True)))
    tables = TableOut(many=True)
    notes = serializers.ListField(child=serializers.CharField(allow_blank=True))


class ReportIndexOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    filters = serializers.ListField(child=serializers.CharField())


def _allowed(request) -> None:

    if not reports_allowed(request.user):
        raise PermissionDenied("Reports are for managers, reps with admin access and ops.")


class ReportIndexView(APIView):
    permission_classes = [ScopedPermission]
    scopes = {"GET": Scope.READ}

    @extend_schema(summary="The report pages", responses={200: ReportIndexOut(many=True), **ERROR_RESPONSES})
    def get(self, request):

        _allowed(request)
        return Response([
            {"slug": r.slug, "title": r.title, "description": r.description or "", "filters": list(r.filters)}
            for r in reports_in_order()
        ])


FILTER_PARAMETERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Default: 30 days before date_to."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Default: today."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id (one of yours)."),
    OpenApiParameter("rep", OpenApiTypes.INT, description="Rep id (one of yours)."),
    OpenApiParameter("segment", OpenApiTypes.STR),
    OpenApiParameter("lead_type", OpenApiTypes.STR),
]


def _slug_parameter() -> OpenApiParameter:

    return OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH,
                            enum=[r.slug for r in reports_in_order()], description="The report page.")


class ReportView(APIView):
    permission_classes = [ScopedPermission]
    scopes = {"GET": Scope.READ}

    @extend_schema(
        summary="One report page's numbers, with the page's filters",
        parameters=[_slug_parameter(), *FILTER_PARAMETERS], responses={200: ReportOut, **ERROR_RESPONSES},
    )
    def get(self, request, slug: str):

        report = REPORTS.get(slug)
        if report is None:
            raise NotFound(f"No report “{slug}”; GET /api/reports/ lists them.")
        _allowed(request)
        filterset = ReportFilterSet(request.query_params, request=request, page=report)
        params_form = report.params_form(request.query_params) if report.params_form else None
        valid = filterset.is_valid() & (params_form.is_valid() if params_form is not None else True)
        if not valid:
            errors = {}
            for form in (filterset.form, params_form):
                if form is not None:
                    errors.update({field: list(messages) for field, messages in form.errors.items()})
            raise serializers.ValidationError(errors)
        scope = filterset.scope(user=request.user, segment_filters_reps=report.segment_filters_reps)
        params = params_form.cleaned_data if params_form is not None else {}
        result = report_compute(report, scope=scope, params=params)
        body = {
            "slug": report.slug, "title": report.title,
            "filters": plain({
                "date_from": scope.date_from, "date_to": scope.date_to,
                "team": scope.team.pk if scope.team else None, "rep": scope.rep.pk if scope.rep else None,
                "segment": scope.segment, "lead_type": scope.lead_type, **params,
            }),
            "computed_at": timezone.now(),
            "summary": [[str(label), str(value)] for label, value in (result.summary or [])],
            "tables": [
                {
                    "key": t.key, "title": t.title or "",
                    "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind, "definition": c.definition or ""}
                                for c in t.columns],
                    "rows": [{c.key: plain(row.get(c.key)) for c in t.columns} for row in t.rows],
                    "total": {c.key: plain(t.total.get(c.key)) for c in t.columns} if t.total else None,
                    "note": t.note or "",
                }
                for t in result.tables
            ],
            "notes": [str(n) for n in (result.notes or [])],
        }
        return Response(body)
