"""POST/PATCH /api/opportunities/: opportunities written by the CRM sync (or any tool),
through the same service as the CRM webhook's opportunity events (apps/connect/crm.py)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.accounts.domains import normalize_domain
from apps.accounts.selectors import account_holding_domain
from apps.connect.crm import UNSET, OpportunityChange, crm_opportunity_apply, rep_for
from apps.connect.models import CrmLink, CrmSystem
from apps.integrations.models import Scope
from apps.meetings.models import Opportunity, OpportunityStage
from sdrops.access import accounts_visible_to, opportunities_visible_to, reps_visible_to
from sdrops.api.permissions import ScopedPermission, request_integration
from sdrops.api.support import ERROR_RESPONSES, django_error_messages


class OpportunityOut(serializers.ModelSerializer):
    external_id = serializers.SerializerMethodField()
    stage = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    sourcing_sdr = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Opportunity
        fields = ["id", "external_id", "account", "name", "stage", "is_open", "amount", "close_date", "owner",
                  "sourcing_sdr", "closed_lost_reason", "pipeline_at", "closed_at", "created_at"]

    def get_external_id(self, obj) -> str | None:
        link = getattr(obj, "crm_link", None)
        return link.external_id if link else None


class OpportunityIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, help_text="The CRM's id of the opportunity (unique).")
    account = serializers.IntegerField(required=False, help_text="Our account id (or give account_domain).")
    account_domain = serializers.CharField(required=False, max_length=253)
    name = serializers.CharField(required=False, max_length=255)
    stage = serializers.CharField(
        required=False, max_length=200, help_text="Our stage code, or a CRM stage name mapped under CRM stage mappings.")
    system = serializers.ChoiceField(choices=CrmSystem.choices, default=CrmSystem.SDROPS,
                                     help_text="Whose stage names and user ids `stage` and `owner_crm_id` are.")
    owner = serializers.IntegerField(required=False, help_text="The AE owner's rep id.")
    owner_email = serializers.EmailField(required=False)
    owner_crm_id = serializers.CharField(required=False, max_length=200, help_text="Mapped under CRM user mappings.")
    amount = serializers.DecimalField(required=False, allow_null=True, max_digits=14, decimal_places=2, min_value=0)
    close_date = serializers.DateField(required=False, allow_null=True)
    closed_lost_reason = serializers.CharField(required=False, max_length=20)
    closed_lost_details = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When the change happened in the CRM; an older change than the last applied is stale.")


class OpportunityPatch(OpportunityIn):
    external_id = serializers.CharField(max_length=100, required=False)


def _change(data: dict, *, external_id: str) -> OpportunityChange:
    change = OpportunityChange(system=data.get("system", CrmSystem.SDROPS), external_id=external_id)
    for field in ("name", "amount", "close_date"):
        if field in data:
            setattr(change, field, data[field])
    if "stage" in data:
        change.stage_value = data["stage"]
    change.lost_reason = data.get("closed_lost_reason", "")
    change.lost_details = data.get("closed_lost_details", "")
    # Account and owner arrive resolved within the caller's scope (OpportunityViewSet._resolve).
    change.owner = UNSET
    return change


class OpportunityFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    sourcing_sdr = django_filters.NumberFilter(field_name="sourcing_sdr_id")
    stage = django_filters.CharFilter(field_name="stage__code")
    is_open = django_filters.BooleanFilter()

    class Meta:
        model = Opportunity
        fields = ["account", "owner", "sourcing_sdr", "stage", "is_open"]


@extend_schema_view(
    list=extend_schema(summary="List opportunities in your scope", responses={200: OpportunityOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One opportunity", responses={200: OpportunityOut, **ERROR_RESPONSES}),
)
class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = OpportunityOut
    filterset_class = OpportunityFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_ACCOUNTS, "PATCH": Scope.WRITE_ACCOUNTS}
    model_perms = {
        "GET": ["meetings.view_opportunity"],
        "POST": ["meetings.add_opportunity", "meetings.change_opportunity"],
        "PATCH": ["meetings.change_opportunity"],
    }
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return opportunities_visible_to(user=self.request.user).select_related("stage", "crm_link").order_by("pk")

    def _resolve(self, data: dict) -> dict:
        """Account and owner named by the caller, within the caller's scope: a record outside
        it gets the answer of one that does not exist."""
        user = self.request.user
        errors, resolved = {}, {}
        if "account" in data:
            resolved["account"] = accounts_visible_to(user=user).filter(pk=data["account"]).first()
            if resolved["account"] is None:
                errors["account"] = [f"No account with id {data['account']} in your scope."]
        elif "account_domain" in data:
            try:
                domain = normalize_domain(data["account_domain"])
            except DjangoValidationError as error:
                errors["account_domain"] = error.messages
            else:
                account = account_holding_domain(domain)
                if account is None or not accounts_visible_to(user=user).filter(pk=account.pk).exists():
                    errors["account_domain"] = [f"No account with the domain {domain} in your scope."]
                resolved["account"] = account
        reps = reps_visible_to(user=user).filter(active=True)
        if "owner" in data:
            resolved["owner"] = reps.filter(pk=data["owner"]).first()
            if resolved["owner"] is None:
                errors["owner"] = [f"No active rep with id {data['owner']} in your scope."]
        elif "owner_email" in data:
            resolved["owner"] = reps.filter(user__email__iexact=data["owner_email"]).first()
            if resolved["owner"] is None:
                errors["owner_email"] = [f"No active rep with the email {data['owner_email']} in your scope."]
        elif "owner_crm_id" in data:
            try:
                owner = rep_for(system=data.get("system", CrmSystem.SDROPS), value=data["owner_crm_id"],
                                field="owner_crm_id")
            except DjangoValidationError as error:
                errors.update(_api_error(error).detail)
            else:
                resolved["owner"] = reps.filter(pk=owner.pk).first()
                if resolved["owner"] is None:
                    errors["owner_crm_id"] = [f"No active rep is mapped for “{data['owner_crm_id']}” in your scope."]
        if errors:
            raise serializers.ValidationError(errors)
        return resolved

    def _apply(self, data: dict, *, external_id: str, created_status: int) -> Response:
        resolved = self._resolve(data)
        stage = None
        if data.get("system", CrmSystem.SDROPS) == CrmSystem.SDROPS and "stage" in data:
            stage = OpportunityStage.objects.filter(code=data["stage"]).first()
            if stage is None:
                raise serializers.ValidationError({"stage": [
                    f"Unknown stage “{data['stage']}”; expected one of "
                    f"{', '.join(OpportunityStage.objects.values_list('code', flat=True))}."]})
        try:
            answer = crm_opportunity_apply(
                change=_change(data, external_id=external_id), actor=self.request.user,
                integration=request_integration(self.request),
                sender_time=data.get("occurred_at"), stage=stage, **resolved,
            )
        except DjangoValidationError as error:
            raise _api_error(error)
        opportunity = Opportunity.objects.select_related("stage", "crm_link").get(pk=answer["opportunity_id"])
        code = created_status if answer["result"] == "created" else status.HTTP_200_OK
        return Response(OpportunityOut(opportunity).data, status=code)

    @extend_schema(summary="Create or update an opportunity by its CRM external id", request=OpportunityIn,
                   responses={201: OpportunityOut, 200: OpportunityOut, **ERROR_RESPONSES})
    def create(self, request):
        data = OpportunityIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._apply(data.validated_data, external_id=data.validated_data["external_id"],
                           created_status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an opportunity", request=OpportunityPatch,
                   responses={200: OpportunityOut, **ERROR_RESPONSES})
    def partial_update(self, request, pk=None):
        # The body first: a malformed one is a 400 whether or not the id exists.
        data = OpportunityPatch(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        opportunity = self.get_object()
        link = CrmLink.objects.filter(opportunity=opportunity).first()
        external_id = data.validated_data.get("external_id") or (link.external_id if link else "")
        if link is None:
            if not external_id:
                raise serializers.ValidationError({"external_id": ["This opportunity has no CRM id yet; give it."]})
            if CrmLink.objects.filter(kind=CrmLink.Kind.OPPORTUNITY, external_id=external_id).exists():
                raise serializers.ValidationError({"external_id": [f"{external_id} belongs to another opportunity."]})
            CrmLink.objects.create(kind=CrmLink.Kind.OPPORTUNITY, external_id=external_id, opportunity=opportunity)
        elif external_id != link.external_id:
            raise serializers.ValidationError({"external_id": ["An opportunity's CRM id does not change."]})
        return self._apply(data.validated_data, external_id=external_id, created_status=status.HTTP_200_OK)


def _api_error(error: DjangoValidationError) -> serializers.ValidationError:
    messages = django_error_messages(error)
    return serializers.ValidationError({key.removeprefix("opportunity."): value for key, value in messages.items()})
