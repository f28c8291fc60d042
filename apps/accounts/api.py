"""REST API for accounts and activities. Thin: input serializers validate shapes, the
services in apps.accounts.services / apps.integrations.services make every write, and the
role selectors decide which rows a request sees."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.accounts.domains import normalize_domain
from apps.accounts.models import Account, Activity, ActivityType, DomainAlias, OwnershipReason
from apps.accounts.services import account_create, account_fields_update, account_set_owner, domain_alias_add
from apps.cadences.services import activity_create
from apps.icps.selectors import account_score_explain
from apps.integrations.models import Scope
from apps.integrations.services import activities_record_bulk
from apps.markets.coverage import CoverageQuadrant, with_coverage
from apps.markets.models import MarketSegment
from apps.markets.selectors import accounts_enrolled
from apps.people.models import Rep, Segment
from sdrops.access import (
    accounts_visible_to,
    activities_visible_to,
    contacts_visible_to,
    rep_for_user,
    reps_visible_to,
)
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, MAX_BULK_ITEMS, UtcIsoDateTimeFilter

# --- accounts --------------------------------------------------------------------------------


class AccountOut(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.owner_name", read_only=True, allow_null=True, default=None)
    aliases = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id", "name", "website", "domain", "aliases", "keep_subdomain", "industry", "employees",
            "annual_revenue", "country", "region", "technologies", "segment", "status", "owner", "owner_name",
            "owner_since", "sdr_owner", "opportunity_owner", "cs_owner", "tier", "total_score", "fit_score",
            "opportunity_score", "readiness_score", "quadrant", "scored_at", "created_at", "updated_at",
            "market_segment", "market_segment_source", "enrolled", "coverage_quadrant", "covered", "engaged",
            "contacts_known", "touches_in_window", "last_touch_at",
        ]
        read_only_fields = fields

    # Market segment (apps.markets, seed 003) and coverage × engagement (seed 004): `quadrant`
    # above is the ICP's fit × timing, `coverage_quadrant` is identify / expand_reach / engage / win.
    market_segment = serializers.SerializerMethodField(help_text="A-G; empty: not classified.")
    market_segment_source = serializers.SerializerMethodField(help_text="rules, override or empty.")
    enrolled = serializers.SerializerMethodField(help_text="In segment B: the only accounts distributions hand out.")
    coverage_quadrant = serializers.CharField(read_only=True, help_text="identify, expand_reach, engage or win.")
    covered = serializers.BooleanField(read_only=True)
    engaged = serializers.BooleanField(read_only=True)
    contacts_known = serializers.IntegerField(read_only=True)
    touches_in_window = serializers.IntegerField(source="touches", read_only=True)
    last_touch_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_aliases(self, account) -> list[str]:
        return [alias.domain for alias in account.aliases.all()]

    @staticmethod
    def _market(account):
        return getattr(account, "market", None) if hasattr(account, "market") else None

    def get_market_segment(self, account) -> str:
        market = self._market(account)
        return market.segment if market else ""

    def get_market_segment_source(self, account) -> str:
        market = self._market(account)
        if market is None or not market.segment:
            return ""
        return "override" if market.override_segment else "rules"

    def get_enrolled(self, account) -> bool:
        market = self._market(account)
        return bool(market and market.enrolled)


class RuleHitOut(serializers.Serializer):
    rule_id = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    text = serializers.CharField()
    points = serializers.IntegerField()


class ICPExplanationOut(serializers.Serializer):
    icp_id = serializers.IntegerField()
    name = serializers.CharField()
    qualified = serializers.BooleanField()
    failed_qualifiers = serializers.ListField(child=serializers.CharField())
    hits = RuleHitOut(many=True)
    raw = serializers.DictField(child=serializers.IntegerField(), help_text="Category → points before the cap.")
    scores = serializers.DictField(child=serializers.IntegerField(), help_text="Category → points after the cap.")
    cut = serializers.DictField(child=serializers.IntegerField(), help_text="Category → points the cap cut off.")
    total = serializers.IntegerField()


class ScoreExplanationOut(serializers.Serializer):
    """apps.icps.selectors.account_score_explain: which rule gave how many points."""

    total = serializers.IntegerField()
    tier = serializers.CharField(allow_blank=True)
    quadrant = serializers.CharField(allow_blank=True)
    matched_icp = serializers.IntegerField(allow_null=True, source="matched.icp_id", default=None)
    icps = ICPExplanationOut(many=True)
    computed_at = serializers.DateTimeField()


class AccountDetailOut(AccountOut):
    score_explanation = serializers.SerializerMethodField()

    class Meta(AccountOut.Meta):
        fields = [*AccountOut.Meta.fields, "score_explanation"]
        read_only_fields = fields

    @extend_schema_field(ScoreExplanationOut)
    def get_score_explanation(self, account) -> dict:

        return ScoreExplanationOut(account_score_explain(account=account)).data


class AccountIn(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    website = serializers.CharField(max_length=500, required=False, allow_blank=True)
    domain = serializers.CharField(max_length=500, required=False, allow_null=True, allow_blank=True)
    keep_subdomain = serializers.BooleanField(required=False)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    employees = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False, allow_null=True)
    annual_revenue = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=50, required=False, allow_blank=True)
    technologies = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=200, required=False
    )
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    status = serializers.ChoiceField(choices=Account.Status.choices, required=False)
    owner = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
        help_text="Rep id; null puts the account in the pool. Needs the right to change owners.",
    )

    def validate_owner(self, value):
        if value is None:
            return None
        # Among the reps the caller sees (ops: all), like the admin's owner field.
        request = self.context.get("request")
        reps = reps_visible_to(user=request.user) if request is not None else Rep.objects.none()
        rep = reps.filter(pk=value, active=True).first()
        if rep is None:
            raise serializers.ValidationError(f"No active rep with id {value}.")
        return rep


class AccountPatch(AccountIn):
    name = serializers.CharField(max_length=255, required=False)


class AliasIn(serializers.Serializer):
    domain = serializers.CharField(max_length=500)


class AliasOut(serializers.ModelSerializer):
    class Meta:
        model = DomainAlias
        fields = ["id", "account", "domain", "created_at"]


class AccountFilter(django_filters.FilterSet):
    domain = django_filters.CharFilter(method="filter_domain", help_text="Domain or alias (normalized first).")
    owner = django_filters.NumberFilter(field_name="owner_id", help_text="Rep id.")
    pool = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", help_text="true: unowned accounts.")
    tier = django_filters.CharFilter(field_name="tier", max_length=1)
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    status = django_filters.ChoiceFilter(choices=Account.Status.choices)
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    market_segment = django_filters.ChoiceFilter(field_name="market__segment", choices=MarketSegment.choices)
    enrolled = django_filters.BooleanFilter(method="filter_enrolled", help_text="true: market segment B only.")
    coverage_quadrant = django_filters.ChoiceFilter(field_name="coverage_quadrant", choices=CoverageQuadrant.choices)

    class Meta:
        model = Account
        fields = ["domain", "owner", "pool", "tier", "segment", "status", "updated_since", "market_segment", "enrolled",
                  "coverage_quadrant"]

    def filter_enrolled(self, queryset, name, value):
        enrolled = accounts_enrolled(queryset)
        return enrolled if value else queryset.exclude(pk__in=enrolled.values("pk"))

    def filter_domain(self, queryset, name, value):
        try:
            domain = normalize_domain(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"domain": error.messages})
        return queryset.filter(
            Q(domain=domain) | Q(pk__in=DomainAlias.objects.filter(domain=domain).values("account_id"))
        )


def _owner_change_allowed(request) -> None:
    if not request.user.has_perm("accounts.change_account_owner"):
        raise PermissionDenied("Your role may not change account owners.")


@extend_schema_view(
    list=extend_schema(summary="List accounts in your scope", responses={200: AccountOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(
        summary="One account, with its score explanation", responses={200: AccountDetailOut, **ERROR_RESPONSES}
    ),
)
class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = AccountOut
    filterset_class = AccountFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_ACCOUNTS, "PATCH": Scope.WRITE_ACCOUNTS}
    model_perms = {
        "GET": ["accounts.view_account"],
        "POST": ["accounts.add_account"],
        "PATCH": ["accounts.change_account"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema is built without a database (deploy check): coverage reads its settings.
            return Account.objects.none()
        qs = accounts_visible_to(user=self.request.user).select_related("owner", "market").prefetch_related("aliases")
        return with_coverage(qs)

    def get_serializer_class(self):
        return AccountDetailOut if self.action == "retrieve" else AccountOut

    def get_permissions(self):
        if self.action == "aliases":
            self.model_perms = {"POST": ["accounts.add_domainalias"]}
        return super().get_permissions()

    @extend_schema(summary="Create an account", request=AccountIn, responses={201: AccountOut, **ERROR_RESPONSES})
    def create(self, request):
        # The right to change owners is checked before the owner is looked up, so a role
        # without it learns nothing about which rep ids exist.
        if isinstance(request.data, dict) and request.data.get("owner") is not None:
            _owner_change_allowed(request)
        data = AccountIn(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        owner = fields.pop("owner", None)
        account = account_create(
            actor=request.user, reason=OwnershipReason.API, owner=owner, **fields
        )
        return Response(AccountOut(self.get_queryset().get(pk=account.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an account (owner through the ownership service, reason api)",
        request=AccountPatch, responses={200: AccountOut, **ERROR_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        account = self.get_object()
        if isinstance(request.data, dict) and "owner" in request.data:
            _owner_change_allowed(request)  # before the owner is looked up (see create)
        data = AccountPatch(data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        owner_given = "owner" in fields
        owner = fields.pop("owner", None)
        with transaction.atomic():
            if fields:
                account_fields_update(account=account, actor=request.user, fields=fields)
            if owner_given:
                account_set_owner(account=account, to_rep=owner, reason=OwnershipReason.API, actor=request.user,
                                  note="API")
        return Response(AccountOut(self.get_queryset().get(pk=account.pk)).data)

    @extend_schema(summary="Add a domain alias", request=AliasIn, responses={201: AliasOut, **ERROR_RESPONSES})
    @action(detail=True, methods=["post"])
    def aliases(self, request, pk=None):
        account = self.get_object()
        data = AliasIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            alias = domain_alias_add(account=account, domain=data.validated_data["domain"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"domain": error.messages})
        return Response(AliasOut(alias).data, status=status.HTTP_201_CREATED)


# --- activities ------------------------------------------------------------------------------


class ActivityOut(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "type", "account", "contact", "rep", "occurred_at", "automated", "subject", "created_at"]
        read_only_fields = fields


class ActivityIn(serializers.Serializer):
    """Refer to the account by id or domain, the contact by id or email, the rep by id or
    owner name; the rep defaults to the caller's own rep."""

    type = serializers.ChoiceField(choices=ActivityType.choices)
    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    account_domain = serializers.CharField(max_length=500, required=False)
    contact = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    contact_email = serializers.CharField(max_length=254, required=False)
    rep = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    rep_owner_name = serializers.CharField(max_length=150, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    automated = serializers.BooleanField(
        default=False, help_text="Sequences and other robots: never counts as working a lead or a first response."
    )
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(
        choices=[("positive", "Positive response"), ("negative", "Negative response"), ("no_response", "No response")],
        required=False, allow_blank=True, default="",
        help_text="With a contact: how the touch ended the contact's current cadence step (default no response).",
    )

    def validate(self, attrs):
        if not any(attrs.get(f) for f in ("account", "account_domain", "contact", "contact_email")):
            raise serializers.ValidationError({"account": ["Give account, account_domain, contact or contact_email."]})
        return attrs


class ActivityBulkIn(serializers.Serializer):
    activities = serializers.ListField(
        child=serializers.JSONField(), max_length=MAX_BULK_ITEMS, allow_empty=False,
        help_text=f"Up to {MAX_BULK_ITEMS} activity objects (the fields of POST /api/activities/).",
    )


class BulkItemOut(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(child=serializers.JSONField(), allow_null=True)


class ActivityBulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkItemOut(many=True)


class ActivityRefs:
    """Resolves the references of many activity items in a handful of queries, each
    limited to what the user may see (a hidden account is simply "not found")."""

    def __init__(self, *, user, items: list[dict]):
        self.user = user
        self.own_rep = rep_for_user(user)
        account_ids = {i["account"] for i in items if i.get("account")}
        contact_ids = {i["contact"] for i in items if i.get("contact")}
        rep_ids = {i["rep"] for i in items if i.get("rep")}
        self.domain_errors: dict[str, list[str]] = {}
        domains = {}
        for item in items:
            raw = item.get("account_domain")
            if raw and raw not in domains and raw not in self.domain_errors:
                try:
                    domains[raw] = normalize_domain(raw)
                except DjangoValidationError as error:
                    self.domain_errors[raw] = error.messages
        self.domains = domains
        emails = {i["contact_email"].strip().lower() for i in items if i.get("contact_email")}
        names = {" ".join(i["rep_owner_name"].split()).lower() for i in items if i.get("rep_owner_name")}
        visible = accounts_visible_to(user=user)
        self.accounts = {a.pk: a for a in visible.filter(pk__in=account_ids)} if account_ids else {}
        self.accounts_by_domain = {}
        if domains:
            wanted = set(domains.values())
            for account in visible.filter(Q(domain__in=wanted) | Q(aliases__domain__in=wanted)).prefetch_related(
                "aliases"
            ).distinct():
                for domain in [account.domain, *[a.domain for a in account.aliases.all()]]:
                    if domain in wanted:
                        self.accounts_by_domain[domain] = account
        contacts = contacts_visible_to(user=user).select_related("account")
        self.contacts = {c.pk: c for c in contacts.filter(pk__in=contact_ids)} if contact_ids else {}
        self.contacts_by_email = {c.email: c for c in contacts.filter(email__in=emails)} if emails else {}
        reps = reps_visible_to(user=user)
        self.reps = {r.pk: r for r in reps.filter(pk__in=rep_ids)} if rep_ids else {}
        self.reps_by_name = (
            {r.owner_name.lower(): r for r in reps.annotate(lower_name=Lower("owner_name")).filter(lower_name__in=names)}
            if names else {}
        )

    def resolve(self, attrs: dict) -> dict:
        """activity_create keywords for one validated item; raises ValidationError."""
        errors: dict[str, list[str]] = {}
        account = contact = rep = None
        if attrs.get("account"):
            account = self.accounts.get(attrs["account"])
            if account is None:
                errors["account"] = [f"No account with id {attrs['account']} in your scope."]
        elif attrs.get("account_domain"):
            raw = attrs["account_domain"]
            if raw in self.domain_errors:
                errors["account_domain"] = self.domain_errors[raw]
            else:
                account = self.accounts_by_domain.get(self.domains[raw])
                if account is None:
                    errors["account_domain"] = [f"No account with the domain {self.domains[raw]} in your scope."]
        if attrs.get("contact"):
            contact = self.contacts.get(attrs["contact"])
            if contact is None:
                errors["contact"] = [f"No contact with id {attrs['contact']} in your scope."]
        elif attrs.get("contact_email"):
            email = attrs["contact_email"].strip().lower()
            contact = self.contacts_by_email.get(email)
            if contact is None:
                errors["contact_email"] = [f"No contact with the email {email} in your scope."]
        if contact is not None and account is not None and contact.account_id != account.pk:
            errors["contact"] = [f"{contact.email} is not a contact of {account.name}."]
        if contact is not None and account is None and "account" not in errors and "account_domain" not in errors:
            account = contact.account
            if account is None:
                errors["contact"] = [f"{contact.email} has no account; give the account too."]
        if attrs.get("rep"):
            rep = self.reps.get(attrs["rep"])
            if rep is None:
                errors["rep"] = [f"No rep with id {attrs['rep']} in your scope."]
        elif attrs.get("rep_owner_name"):
            name = " ".join(attrs["rep_owner_name"].split())
            rep = self.reps_by_name.get(name.lower())
            if rep is None:
                errors["rep_owner_name"] = [f"No rep named “{name}” in your scope."]
        else:
            rep = self.own_rep
        if errors:
            raise DjangoValidationError(errors)
        return {
            "type": attrs["type"], "account": account, "contact": contact, "rep": rep,
            "occurred_at": attrs.get("occurred_at"), "automated": attrs["automated"], "subject": attrs["subject"],
            "outcome": attrs["outcome"],
        }


class ActivityFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    rep = django_filters.NumberFilter(field_name="rep_id")
    type = django_filters.ChoiceFilter(choices=ActivityType.choices)
    automated = django_filters.BooleanFilter()
    occurred_since = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields = ["account", "rep", "type", "automated", "occurred_since"]


@extend_schema_view(
    list=extend_schema(summary="List activities in your scope", responses={200: ActivityOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One activity", responses={200: ActivityOut, **ERROR_RESPONSES}),
)
class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = ActivityOut
    filterset_class = ActivityFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_LEADS_ACTIVITIES}
    model_perms = {"GET": ["accounts.view_activity"], "POST": ["accounts.add_activity"]}

    def get_queryset(self):
        return activities_visible_to(user=self.request.user)

    @extend_schema(summary="Log an activity", request=ActivityIn, responses={201: ActivityOut, **ERROR_RESPONSES})
    def create(self, request):
        data = ActivityIn(data=request.data)
        data.is_valid(raise_exception=True)
        refs = ActivityRefs(user=request.user, items=[data.validated_data])
        activity = activity_create(actor=request.user, **refs.resolve(data.validated_data))
        return Response(ActivityOut(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=f"Log up to {MAX_BULK_ITEMS} activities; errors are reported per item",
        description="Each item is written whole or not at all; valid items are written even when others fail.",
        request=ActivityBulkIn, responses={200: ActivityBulkOut, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        envelope = ActivityBulkIn(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw_items = envelope.validated_data["activities"]
        checked = []
        for raw in raw_items:
            item = ActivityIn(data=raw) if isinstance(raw, dict) else None
            if item is None:
                checked.append({"errors": {"non_field_errors": ["Expected an object."]}})
            elif not item.is_valid():
                checked.append({"errors": item.errors})
            else:
                checked.append(item.validated_data)
        refs = ActivityRefs(user=request.user, items=[c for c in checked if "errors" not in c])
        prepared = []
        for item in checked:
            if "errors" in item:
                prepared.append(item)
                continue
            try:
                prepared.append(refs.resolve(item))
            except DjangoValidationError as error:
                prepared.append({"errors": error.message_dict})
        results = activities_record_bulk(actor=request.user, items=prepared)
        body = {
            "created": sum(1 for r in results if r.activity is not None),
            "failed": sum(1 for r in results if r.errors),
            "results": [
                {"index": r.index, "id": r.activity.pk if r.activity else None, "errors": r.errors} for r in results
            ],
        }
        return Response(body)


