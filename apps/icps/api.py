"""REST API for signals (list, record) and signal types (read). A signal is recorded through
apps.icps.services.signal_record, which rescores its account in the same transaction; the
account must be one the caller may see."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.accounts.domains import normalize_domain
from apps.accounts.models import DomainAlias
from apps.icps.models import Signal, SignalType
from apps.icps.services import signal_record
from apps.integrations.models import Scope
from sdrops.access import accounts_visible_to
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, UtcIsoDateTimeFilter


class SignalTypeOut(serializers.ModelSerializer):
    class Meta:
        model = SignalType
        fields = ["id", "key", "name", "kind", "lifetime_days"]
        read_only_fields = fields


class SignalOut(serializers.ModelSerializer):
    type_key = serializers.CharField(source="type.key", read_only=True)

    class Meta:
        model = Signal
        fields = ["id", "account", "type", "type_key", "occurred_at", "value", "date", "source", "note", "created_at"]
        read_only_fields = fields


class SignalIn(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    account_domain = serializers.CharField(max_length=500, required=False, allow_blank=True)
    type = serializers.CharField(max_length=50, help_text="The signal type's key (GET /api/signal-types/).")
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    value = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, help_text="For numeric signal types."
    )
    date = serializers.DateField(required=False, allow_null=True, help_text="For dated signal types.")
    source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="api")
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_type(self, value):
        signal_type = SignalType.objects.filter(key=value.strip()).first()
        if signal_type is None:
            keys = ", ".join(SignalType.objects.values_list("key", flat=True)[:50])
            raise serializers.ValidationError(f"No signal type “{value}”; expected one of: {keys}.")
        return signal_type

    def validate(self, attrs):
        if not attrs.get("account") and not attrs.get("account_domain"):
            raise serializers.ValidationError({"account": ["Give account or account_domain."]})
        return attrs


class SignalFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    type = django_filters.CharFilter(field_name="type__key", max_length=50, help_text="Signal type key.")
    occurred_since = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = Signal
        fields = ["account", "type", "occurred_since"]


@extend_schema_view(
    list=extend_schema(summary="List signals on accounts in your scope", responses={200: SignalOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One signal", responses={200: SignalOut, **ERROR_RESPONSES}),
)
class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = SignalOut
    filterset_class = SignalFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_ACCOUNTS}
    model_perms = {"GET": ["icps.view_signal"], "POST": ["icps.add_signal"]}

    def get_queryset(self):
        return Signal.objects.filter(account__in=accounts_visible_to(user=self.request.user)).select_related("type")

    @extend_schema(
        summary="Record a signal (the account is rescored at once)",
        request=SignalIn, responses={201: SignalOut, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = SignalIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visible = accounts_visible_to(user=request.user)
        if values.get("account"):
            account = visible.filter(pk=values["account"]).first()
            if account is None:
                raise serializers.ValidationError({"account": [f"No account with id {values['account']} in your scope."]})
        else:
            try:
                domain = normalize_domain(values["account_domain"])
            except DjangoValidationError as error:
                raise serializers.ValidationError({"account_domain": error.messages})
            account = visible.filter(
                Q(domain=domain) | Q(pk__in=DomainAlias.objects.filter(domain=domain).values("account_id"))
            ).first()
            if account is None:
                raise serializers.ValidationError({"account_domain": [f"No account with the domain {domain} in your scope."]})
        # A refusal by the service (Django's ValidationError) becomes a 400 in the API's
        # exception handler (sdrops.api.support), as everywhere in the API.
        signal = signal_record(
            account=account, type=values["type"], occurred_at=values.get("occurred_at"), value=values.get("value"),
            date=values.get("date"), source=values["source"], note=values["note"], actor=request.user,
        )
        return Response(SignalOut(signal).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Signal types", responses={200: SignalTypeOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One signal type", responses={200: SignalTypeOut, **ERROR_RESPONSES}),
)
class SignalTypeViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = SignalTypeOut
    scopes = {"GET": Scope.READ}
    model_perms = {"GET": ["icps.view_signal"]}
    queryset = SignalType.objects.all()
