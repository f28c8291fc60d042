"""REST API for routing: inbound leads routed at once, and account returns (file, review).

Thin: serializers check shapes; apps.people.services.contact_upsert, lead_route and the
return services make every write, so a lead routed here is routed exactly as one added in
the admin or through `route_leads`; the role selectors decide what a request sees and may
review (the same ones the admin uses)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from apps.accounts.domains import normalize_domain
from apps.accounts.models import Account
from apps.campaigns.services import campaign_by_reference
from apps.integrations.models import Scope
from apps.leads.models import LeadCycle, LeadType
from apps.people.contact_fields import normalize_linkedin_url, normalize_phone
from apps.people.models import Contact, Rep
from apps.people.services import CONTACT_UPSERT_FIELDS
from apps.routing import selectors, services
from apps.routing.intake import LeadIntake, lead_intake
from apps.routing.models import ReturnOutcome, ReturnReason, ReturnRequest, RoutingDecision
from sdrops.access import accounts_visible_to, rep_for_user, returns_visible_to, routing_decisions_visible_to
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, UtcIsoDateTimeFilter

# --- inbound leads -------------------------------------------------------------------------


class LeadIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    persona = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    buying_role = serializers.ChoiceField(choices=Contact.BuyingRole.choices, required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(
        choices=Contact.Source.choices, default=Contact.Source.INBOUND,
        help_text="Where a new contact came from (a known contact keeps its first source).",
    )
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="",
        help_text="Any common form; stored as E.164 (+14155550123). Without a country code: PHONENUMBER_DEFAULT_REGION.",
    )
    linkedin_url = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                         help_text="A LinkedIn profile address, e.g. linkedin.com/in/jane-doe.")
    lead_type = serializers.ChoiceField(choices=LeadType.choices, default=LeadType.INBOUND)
    account_domain = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="The company's domain; needed when the email is a webmail address (gmail.com…).",
    )

    campaign = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="The campaign the lead arrived with: its id or its name (GET /api/campaigns/). Recorded as the "
        "contact's campaign interaction; the lead cycle routing opens is linked to it (its offer can set the SLA, "
        "its cadence is where the lead is enrolled).",
    )

    def validate_campaign(self, value):
        if not value:
            return None
        try:
            return campaign_by_reference(value=value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["campaign"])

    def validate_phone(self, value):
        try:
            return normalize_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages)

    def validate_linkedin_url(self, value):
        try:
            return normalize_linkedin_url(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages)

    def validate_account_domain(self, value):
        if not value:
            return ""
        try:
            return normalize_domain(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages)


class LeadContactOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null when the contact is outside your scope.")
    email = serializers.EmailField()
    created = serializers.BooleanField(help_text="True when this request created the contact.")


class LeadAccountOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField(allow_null=True)
    created = serializers.BooleanField(help_text="True when routing created the account from the email's domain.")


class LeadRepOut(serializers.Serializer):
    id = serializers.IntegerField()
    owner_name = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()


class SkippedRepOut(serializers.Serializer):
    rep_id = serializers.IntegerField()
    rep = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()


class RuleRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DecisionOut(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=RoutingDecision.Outcome.choices)
    outcome_label = serializers.CharField()
    rule = RuleRefOut(allow_null=True)
    strategy = serializers.CharField(allow_blank=True)
    skipped = SkippedRepOut(many=True)
    explanation = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField()


class LeadCycleRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    state = serializers.CharField()
    rep = serializers.IntegerField(allow_null=True)
    assigned_at = serializers.DateTimeField()
    sla_target_at = serializers.DateTimeField(allow_null=True)
    sla_maximum_at = serializers.DateTimeField(allow_null=True)


class LeadOut(serializers.Serializer):
    routed = serializers.BooleanField(help_text="False when the lead already had an open cycle and was left alone.")
    assigned = serializers.BooleanField(help_text="True when a rep has the lead now.")
    detail = serializers.CharField(help_text="One sentence: what happened and why.")
    contact = LeadContactOut()
    account = LeadAccountOut(allow_null=True)
    rep = LeadRepOut(allow_null=True)
    decision = DecisionOut(allow_null=True)
    lead_cycle = LeadCycleRefOut(allow_null=True)


def _rep_out(rep: Rep | None) -> dict | None:
    if rep is None:
        return None
    return {"id": rep.pk, "owner_name": rep.owner_name, "email": rep.user.email, "role": rep.role}


def _cycle_out(cycle: LeadCycle | None) -> dict | None:
    if cycle is None:
        return None
    return {
        "id": cycle.pk, "number": cycle.number, "state": cycle.state, "rep": cycle.rep_id,
        "assigned_at": cycle.assigned_at, "sla_target_at": cycle.sla_target_at, "sla_maximum_at": cycle.sla_maximum_at,
    }


def _decision_out(decision: RoutingDecision) -> dict:
    return {
        "id": decision.pk, "outcome": decision.outcome, "outcome_label": decision.get_outcome_display(),
        "rule": {"id": decision.rule.pk, "name": decision.rule.name} if decision.rule else None,
        "strategy": decision.strategy,
        "skipped": [
            {**s, "reason_label": services.SKIP_LABELS.get(s.get("reason"), s.get("reason", ""))}
            for s in decision.skipped or []
        ],
        "explanation": decision.explanation, "decided_at": decision.decided_at,
    }


class RoutingDecisionOut(DecisionOut):
    contact = serializers.IntegerField(allow_null=True)
    contact_email = serializers.CharField(allow_null=True)
    account = serializers.IntegerField(allow_null=True)
    rep = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    account_created = serializers.BooleanField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class RoutingDecisionFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=RoutingDecision.Outcome.choices)
    rep = django_filters.NumberFilter(field_name="rep_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    email = django_filters.CharFilter(method="filter_email", max_length=254)
    decided_since = UtcIsoDateTimeFilter(field_name="decided_at", lookup_expr="gte")

    class Meta:
        model = RoutingDecision
        fields = ["outcome", "rep", "contact", "email", "decided_since"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(contact__email=value.strip().lower())


@extend_schema_view(
    list=extend_schema(
        summary="Routing decisions in your scope (why each lead went where)",
        responses={200: RoutingDecisionOut, **ERROR_RESPONSES},
    ),
    create=extend_schema(
        summary="Receive an inbound lead and route it at once",
        description=(
            "Creates or updates the contact by email, then routes it exactly as the admin does: matched to its "
            "account by email domain (or account_domain), then the open opportunity's owner, a customer's AE/CSM, "
            "the account's owner, or the first matching routing rule. Answers with the account, the rep and why. "
            "A lead that already has an open cycle is not routed again (200, routed false). A scoped caller "
            "(an SDR's token) may add new leads and update and route only contacts it can see: a contact outside "
            "its scope is left unchanged and answered like any lead not routed (200, routed false, no contact id, "
            "account, rep or cycle); a new lead routed into a book outside its scope names neither its account "
            "nor its rep."
        ),
        request=LeadIn,
        responses={201: LeadOut, 200: LeadOut, **ERROR_RESPONSES},
    )
)
class LeadViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = RoutingDecisionOut
    filterset_class = RoutingDecisionFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_LEADS_ACTIVITIES}
    model_perms = {"GET": ["routing.view_routingdecision"], "POST": ["people.add_contact"]}

    def get_queryset(self):
        return routing_decisions_visible_to(user=self.request.user).select_related("contact", "rule")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = [{**_decision_out(d), "contact": d.contact_id, "contact_email": d.contact.email if d.contact else None,
                 "account": d.account_id, "rep": d.rep_id, "reason": d.reason, "account_created": d.account_created,
                 "resolved_at": d.resolved_at} for d in page]
        return self.get_paginated_response(RoutingDecisionOut(rows, many=True).data)

    def create(self, request):
        data = LeadIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = lead_intake(
            actor=request.user, email=values["email"], source=values["source"], lead_type=values["lead_type"],
            account_domain=values["account_domain"], campaign=values.get("campaign"), via="api",
            **{f: values[f] for f in CONTACT_UPSERT_FIELDS},
        )
        return Response(LeadOut(_lead_body(result)).data,
                        status=status.HTTP_201_CREATED if result.routed else status.HTTP_200_OK)


def _lead_body(result: LeadIntake) -> dict:
    """The answer names only what the caller may see: a contact outside its scope gets the
    shape of any lead not routed (no contact id, owner, account or cycle); a lead routed into
    a book outside its scope names neither that book's account nor its rep."""
    contact = result.contact
    body = {
        "routed": result.routed, "assigned": False, "detail": result.detail,
        "contact": {"id": contact.pk if contact else None, "email": result.email, "created": result.contact_created},
        "account": None, "rep": None, "decision": None, "lead_cycle": None,
    }
    if result.outcome == LeadIntake.Outcome.OPEN_CYCLE:
        cycle = result.cycle
        account = Account.objects.filter(pk=contact.account_id).first()
        rep = Rep.objects.select_related("user").filter(pk=cycle.rep_id).first()
        body.update({
            "assigned": rep is not None,
            "account": {"id": account.pk, "name": account.name, "domain": account.domain, "created": False}
            if account else None,
            "rep": _rep_out(rep), "lead_cycle": _cycle_out(cycle),
        })
    elif result.routed:
        decision = result.decision
        body["assigned"] = decision.rep_id is not None
        if result.in_scope:
            account = decision.account
            body.update({
                "account": {"id": account.pk, "name": account.name, "domain": account.domain,
                            "created": decision.account_created} if account else None,
                "rep": _rep_out(decision.rep), "decision": _decision_out(decision), "lead_cycle": _cycle_out(result.cycle),
            })
    return body


# --- returns -------------------------------------------------------------------------------


class ReturnOut(serializers.ModelSerializer):
    rep_name = serializers.CharField(source="rep.owner_name", read_only=True)
    # Read-only model fields lose allow_blank; blank means "not decided yet".
    outcome = serializers.ChoiceField(choices=ReturnOutcome.choices, allow_blank=True, read_only=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "id", "account", "account_name", "rep", "rep_name", "reason", "note", "duplicate_of", "get_back_on",
            "swap_account", "status", "outcome", "rest_days", "reassign_to", "review_note", "reviewed_at",
            "data_fixed_at", "created_at",
        ]
        read_only_fields = fields


FILEABLE_REASONS = [(v, label) for v, label in ReturnReason.choices if v != ReturnReason.RETRIEVAL]


class ReturnFileIn(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="An account in your own book.")
    reason = serializers.ChoiceField(choices=FILEABLE_REASONS)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    duplicate_of = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
        help_text="For reason duplicate: the account that stays (one in your scope).",
    )
    get_back_on = serializers.DateField(required=False, allow_null=True, help_text="For reason get_back_to_me.")
    swap = serializers.BooleanField(default=False, help_text="Hand me the best available replacement at once.")


class ReturnApproveIn(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=ReturnOutcome.choices, required=False, allow_blank=True, default="",
        help_text="Default per reason (duplicate → merge, no ICP fit → disqualify, bad data → data fix, else rest).",
    )
    rest_days = serializers.IntegerField(min_value=0, max_value=3650, required=False, allow_null=True)
    reassign_to = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
                                           help_text="For outcome reassign: an active SDR of your teams (ops: any).")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnRejectIn(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="Why: the rep is told.")


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReturnRequest.Status.choices)
    reason = django_filters.ChoiceFilter(choices=ReturnReason.choices)
    rep = django_filters.NumberFilter(field_name="rep_id")
    account = django_filters.NumberFilter(field_name="account_id")

    class Meta:
        model = ReturnRequest
        fields = ["status", "reason", "rep", "account"]




@extend_schema_view(
    list=extend_schema(summary="List returns in your scope", responses={200: ReturnOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One return", responses={200: ReturnOut, **ERROR_RESPONSES}),
)
class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = ReturnOut
    filterset_class = ReturnFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_ACCOUNTS}
    model_perms = {"GET": ["routing.view_returnrequest"], "POST": ["routing.add_returnrequest"]}

    def get_queryset(self):
        return returns_visible_to(user=self.request.user)

    def get_permissions(self):
        if self.action in ("approve", "reject"):
            self.model_perms = {"POST": ["routing.change_returnrequest"]}
        return super().get_permissions()

    @extend_schema(
        summary="File a return of an account in your own book (optionally a swap)",
        request=ReturnFileIn, responses={201: ReturnOut, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = ReturnFileIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rep = rep_for_user(request.user)
        if rep is None:
            raise PermissionDenied("Only a rep can return accounts from their book.")
        account = accounts_visible_to(user=request.user).filter(pk=values["account"]).first()
        if account is None:
            raise serializers.ValidationError({"account": [f"No account with id {values['account']} in your scope."]})
        if not selectors.account_in_own_book(account=account, rep=rep):
            raise serializers.ValidationError({"account": [selectors.OWN_BOOK_ONLY]})
        duplicate_of = None
        if values.get("duplicate_of"):
            # Looked up in the filer's scope: a hidden account is answered as a missing one.
            duplicate_of = accounts_visible_to(user=request.user).filter(pk=values["duplicate_of"]).first()
            if duplicate_of is None:
                raise serializers.ValidationError({"duplicate_of": [services.duplicate_refusal(values["duplicate_of"])]})
        # The services' refusals become 400s in the API's exception handler (sdrops.api.support).
        return_request = services.return_file(
            account=account, rep=rep, reason=values["reason"], note=values["note"], duplicate_of=duplicate_of,
            get_back_on=values.get("get_back_on"), swap=values["swap"], actor=request.user,
        )
        return Response(ReturnOut(self.get_queryset().get(pk=return_request.pk)).data, status=status.HTTP_201_CREATED)

    def _reviewable(self, pk) -> ReturnRequest:
        if not selectors.may_review_returns(user=self.request.user):
            raise PermissionDenied("Only ops or the rep's manager may review returns.")
        try:
            return selectors.returns_reviewable_by(user=self.request.user).get(pk=int(pk))
        except (ReturnRequest.DoesNotExist, ValueError, TypeError):
            raise NotFound("No return with this id for you to review.")

    @extend_schema(
        summary="Approve a pending return (ops, or the rep's manager)",
        request=ReturnApproveIn, responses={200: ReturnOut, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return_request = self._reviewable(pk)
        data = ReturnApproveIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        reassign_to = None
        if values.get("reassign_to"):
            # Only SDRs this reviewer may assign to; any other id is answered as a missing one.
            reassign_to = selectors.reps_assignable_by(user=request.user).filter(pk=values["reassign_to"]).first()
            if reassign_to is None:
                raise serializers.ValidationError({"reassign_to": [services.reassign_refusal(values["reassign_to"])]})
        services.return_approve(
            return_request=return_request, actor=request.user, outcome=values["outcome"] or None,
            rest_days=values.get("rest_days"), reassign_to=reassign_to, note=values["note"],
        )
        return Response(ReturnOut(returns_visible_to(user=request.user).get(pk=return_request.pk)).data)

    @extend_schema(
        summary="Reject a pending return with the reason (the account stays with the rep)",
        request=ReturnRejectIn, responses={200: ReturnOut, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return_request = self._reviewable(pk)
        data = ReturnRejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_reject(return_request=return_request, actor=request.user, note=data.validated_data["note"])
        return Response(ReturnOut(returns_visible_to(user=request.user).get(pk=return_request.pk)).data)
