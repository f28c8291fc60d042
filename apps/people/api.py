"""REST API for reps and contacts (read); rows limited by the role selectors. Lead cycles and
disposition reasons are apps.leads.api."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apps.integrations.models import Scope
from apps.people.models import Contact, Rep, Segment
from sdrops.access import contacts_visible_to, reps_visible_to
from sdrops.api.permissions import ScopedPermission
from sdrops.api.support import ERROR_RESPONSES, UtcIsoDateTimeFilter


class RepOut(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    segment = serializers.ChoiceField(choices=Segment.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Rep
        fields = [
            "id", "owner_name", "email", "role", "team", "team_name", "manager", "segment", "time_zone", "capacity",
            "routing_weight", "ramp_start", "out_of_office_from", "out_of_office_to", "active",
        ]
        read_only_fields = fields


class RepFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Rep.Role.choices)
    team = django_filters.NumberFilter(field_name="team_id")
    active = django_filters.BooleanFilter()
    owner_name = django_filters.CharFilter(field_name="owner_name", lookup_expr="iexact", max_length=150)

    class Meta:
        model = Rep
        fields = ["role", "team", "active", "owner_name"]


@extend_schema_view(
    list=extend_schema(summary="List reps in your scope", responses={200: RepOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One rep", responses={200: RepOut, **ERROR_RESPONSES}),
)
class RepViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = RepOut
    filterset_class = RepFilter
    scopes = {"GET": Scope.READ}
    model_perms = {"GET": ["people.view_rep"]}

    def get_queryset(self):
        return reps_visible_to(user=self.request.user).select_related("user", "team")


class ContactOut(serializers.ModelSerializer):
    phone = serializers.CharField(read_only=True, help_text="E.164, e.g. +14155550123; empty when unknown.")
    linkedin_url = serializers.CharField(read_only=True, help_text="https://www.linkedin.com/in/…; empty when unknown.")

    class Meta:
        model = Contact
        fields = [
            "id", "first_name", "last_name", "email", "phone", "linkedin_url", "title", "persona", "buying_role",
            "source", "account", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ContactFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    email = django_filters.CharFilter(method="filter_email", max_length=254)
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = ["account", "email", "updated_since"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(email=value.strip().lower())


@extend_schema_view(
    list=extend_schema(summary="List contacts in your scope", responses={200: ContactOut, **ERROR_RESPONSES}),
    retrieve=extend_schema(summary="One contact", responses={200: ContactOut, **ERROR_RESPONSES}),
)
class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    serializer_class = ContactOut
    filterset_class = ContactFilter
    scopes = {"GET": Scope.READ}
    model_perms = {"GET": ["people.view_contact"]}

    def get_queryset(self):
        return contacts_visible_to(user=self.request.user)
