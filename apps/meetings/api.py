"""REST API for meetings: list, book, disposition. Thin: apps.meetings.services makes every
write (meeting_book, meeting_disposition) and apps.meetings.selectors decides what a request
sees and who may book or disposition, exactly as in the admin."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.campaigns.qualification import meeting_disposition_with_criteria
from apps.integrations.models import Scope
from apps.leads.api import CriteriaMetField, DispositionReasonField
from apps.meetings import selectors, services
from apps.meetings.models import Meeting
from apps.people.models import Rep
from sdrops.access import contacts_visible_to, meetings_visible_to, rep_for_user, reps_visible_to
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, UtcIsoDateTimeFilter


class MeetingOut(serializers.ModelSerializer):
    class Meta:
        model = Meeting
        fields = [
            "id", "contact", "account", "lead_cycle", "sdr", "ae", "kind", "scheduled_at", "scheduled_end_at", "notes",
            "sdr_attends", "status", "disposition_due_at", "dispositioned_at", "disposition_notes", "disposition_late",
            "opportunity",
        ]
        read_only_fields = fields


class MeetingBookIn(serializers.Serializer):
    contact = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    contact_email = serializers.CharField(max_length=254, required=False)
    sdr = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
                                   help_text="The booking SDR; default: the caller.")
    ae = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True,
                                  help_text="Default: the SDR's partner AE for the account's segment.")
    scheduled_at = serializers.DateTimeField()
    scheduled_end_at = serializers.DateTimeField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices, default=Meeting.Kind.IQM)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    sdr_attends = serializers.BooleanField(default=True)

    def validate(self, attrs):
        if not attrs.get("contact") and not attrs.get("contact_email"):
            raise serializers.ValidationError({"contact": ["Give contact or contact_email."]})
        return attrs


class MeetingDispositionIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[(s.value, s.label) for s in Meeting.DISPOSITIONS])
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    lead_reason = DispositionReasonField(
        help_text="For completed – unqualified: the lead's disposition reason id (GET /api/disposition-reasons/).",
    )
    criteria_met = CriteriaMetField()
    override = serializers.BooleanField(
        default=False, help_text="For completed – qualified: qualify although a required sales-ready criterion is not "
                                 "met (managers and ops only)."
    )


class MeetingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Meeting.Status.choices)
    sdr = django_filters.NumberFilter(field_name="sdr_id")
    ae = django_filters.NumberFilter(field_name="ae_id")
    contact = django_filters.NumberFilter(field_name="contact_id")
    scheduled_since = UtcIsoDateTimeFilter(field_name="scheduled_at", lookup_expr="gte")

    class Meta:
        model = Meeting
        fields = ["status", "sdr", "ae", "contact", "scheduled_since"]


@extend_schema_view(
    list=extend_schema(summary="List meetings in your scope", responses={200: MeetingOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One meeting", responses={200: MeetingOut, **ERROR_RESPONSES}),
)
class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = MeetingOut
    filterset_class = MeetingFilter
    scopes = {"GET": Scope.READ, "POST": Scope.WRITE_LEADS_ACTIVITIES}
    model_perms = {"GET": ["meetings.view_meeting"], "POST": ["meetings.add_meeting"]}

    def get_queryset(self):
        return meetings_visible_to(user=self.request.user)

    def get_permissions(self):
        if self.action == "disposition":
            self.model_perms = {"POST": ["meetings.change_meeting"]}
        return super().get_permissions()

    @extend_schema(summary="Book a meeting for an AE", request=MeetingBookIn, responses={201: MeetingOut, **ERROR_RESPONSES})
    def create(self, request):
        data = MeetingBookIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contacts = contacts_visible_to(user=request.user).select_related("account")
        if values.get("contact"):
            contact = contacts.filter(pk=values["contact"]).first()
            if contact is None:
                raise serializers.ValidationError({"contact": [f"No contact with id {values['contact']} in your scope."]})
        else:
            email = values["contact_email"].strip().lower()
            contact = contacts.filter(email=email).first()
            if contact is None:
                raise serializers.ValidationError({"contact_email": [f"No contact with the email {email} in your scope."]})
        if values.get("sdr"):
            sdr = reps_visible_to(user=request.user).filter(pk=values["sdr"]).first()
            if sdr is None:
                raise serializers.ValidationError({"sdr": [f"No rep with id {values['sdr']} in your scope."]})
        else:
            # As the admin's booking form: the caller if an SDR, else the account's owner.
            caller = rep_for_user(request.user)
            sdr = caller if caller is not None and caller.role == Rep.Role.SDR else None
            if sdr is None and contact.account_id:
                sdr = Rep.objects.filter(pk=contact.account.owner_id).first() if contact.account.owner_id else None
            if sdr is None:
                raise serializers.ValidationError({"sdr": ["Name the booking SDR."]})
        if not selectors.user_may_book_for(user=request.user, sdr=sdr):
            raise PermissionDenied("You may book meetings only for yourself or your team.")
        ae = None
        if values.get("ae"):
            # Only the AEs this SDR books for (selectors.aes_for_sdr): another AE is answered
            # as a missing one, without naming them.
            ae = selectors.aes_for_sdr(sdr=sdr).filter(pk=values["ae"]).first()
            if ae is None:
                raise serializers.ValidationError({"ae": [f"No AE with id {values['ae']} that {sdr} books for."]})
        # The services' refusals become 400s in the API's exception handler (sdrops.api.support).
        meeting = services.meeting_book(
            contact=contact, sdr=sdr, actor=request.user, scheduled_at=values["scheduled_at"],
            scheduled_end_at=values.get("scheduled_end_at"), ae=ae, kind=values["kind"], notes=values["notes"],
            sdr_attends=values["sdr_attends"],
        )
        return Response(MeetingOut(meeting).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Disposition a meeting (the AE, their manager or ops)",
        request=MeetingDispositionIn, responses={200: MeetingOut, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def disposition(self, request, pk=None):
        meeting = self.get_object()
        if not selectors.user_may_disposition(user=request.user, meeting=meeting):
            raise PermissionDenied("Only the AE, their manager or ops may disposition this meeting.")
        data = MeetingDispositionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        meeting_disposition_with_criteria(
            meeting=meeting, outcome=values["outcome"], actor=request.user, notes=values["notes"],
            lead_reason=values.get("lead_reason"), override=values["override"], criteria_met=values.get("criteria_met"),
        )
        return Response(MeetingOut(self.get_queryset().get(pk=meeting.pk)).data)
