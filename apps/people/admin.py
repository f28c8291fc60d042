from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.accounts.imports.admin import ContactImportExportMixin, RepImportExportMixin
from apps.campaigns.models import Campaign
from apps.people.models import Contact, PersonalDataRequest, Rep, Team
from apps.people.privacy import contact_forget
from apps.routing.admin import route_selected_leads
from apps.routing.intake import lead_intake_message
from sdrops.access import accounts_visible_to, contacts_visible_to, reps_visible_to, user_sees_everything
from sdrops.admin_changelist import QuickChangelistMixin
from sdrops.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedForeignKeyMixin


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "segment", "member_count"]
    list_select_related = ["manager"]
    search_fields = ["name"]
    autocomplete_fields = ["manager"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(_members=Count("members"))
        if user_sees_everything(request.user):
            return qs
        return qs.filter(members__in=reps_visible_to(user=request.user)).distinct()

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members


@admin.register(Rep)
class RepAdmin(RepImportExportMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = reps_visible_to
    list_display = [
        "owner_name", "role", "team", "manager", "segment", "capacity", "routing_weight", "ramp",
        "out_of_office", "active",
    ]
    list_select_related = ["team", "manager"]
    list_filter = ["role", "team", "segment", "active"]
    search_fields = ["owner_name", "user__email", "user__username"]
    autocomplete_fields = ["user", "team", "manager"]
    filter_horizontal = ["ae_partners"]
    fieldsets = [
        (None, {"fields": ["user", "owner_name", "role", "team", "manager", "segment", "time_zone", "active"]}),
        ("Book and routing", {"fields": ["capacity", "routing_weight", "ramp_start"]}),
        ("Availability", {"fields": ["out_of_office_from", "out_of_office_to"]}),
        ("Pod", {"fields": ["ae_partners"]}),
    ]

    @admin.display(description="ramp")
    def ramp(self, obj):
        return f"{obj.ramp_factor():.0%}"

    @admin.display(description="out of office", boolean=True)
    def out_of_office(self, obj):
        return obj.is_out_of_office()

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "ae_partners":
            kwargs["queryset"] = Rep.objects.filter(role=Rep.Role.AE)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ContactAdminForm(forms.ModelForm):
    """The address as it is stored (lower case), so the form's uniqueness check sees an
    existing contact whatever the case it is typed in."""

    # Campaigns (issue 19): the campaign a new inbound lead arrived with, handed to lead intake.
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.all(), required=False,
        help_text="New inbound leads: the campaign the lead arrived with (its offer and cadence apply).",
    )

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "title", "persona", "buying_role", "source", "account"]

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()


@admin.register(Contact)
class ContactAdmin(ContactImportExportMixin, QuickChangelistMixin, ScopedAdminMixin, ScopedForeignKeyMixin, admin.ModelAdmin):
    scope_selector = contacts_visible_to
    scoped_foreign_keys = {"account": accounts_visible_to}
    form = ContactAdminForm
    list_display = ["__str__", "account", "title", "persona", "buying_role", "source", "created_at"]
    list_select_related = ["account"]
    list_filter = ["source", "buying_role"]
    search_fields = ["email", "first_name", "last_name", "phone", "account__name", "account__domain"]
    autocomplete_fields = ["account"]
    list_per_page = 100
    show_full_result_count = False
    fields = ["first_name", "last_name", "email", "phone", "linkedin_url", "title", "persona", "buying_role", "source",
              "account", "campaign", "meetings"]
    readonly_fields = ["meetings"]
    actions = ["forget_personal_data", route_selected_leads]  # route_selected_leads: apps.routing

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [f for f in fields if f != "campaign"] if obj is not None else fields

    def view_on_site(self, obj):
        """The change form's "View on site" opens the contact's record page (apps/workspace)."""
        return reverse("admin:workspace_contact_record", args=[obj.pk])

    def save_model(self, request, obj, form, change):
        # A new inbound lead is routed the moment it exists, wherever it came from: through
        # the one lead intake service, so the API, this form and `route_leads` agree.
        if change or obj.source != Contact.Source.INBOUND:
            super().save_model(request, obj, form, change)
            return
        from apps.people.services import CONTACT_UPSERT_FIELDS
        from apps.routing.intake import lead_intake  # routing imports this app's models

        result = lead_intake(
            actor=request.user, email=obj.email, source=obj.source, account=obj.account,
            campaign=form.cleaned_data.get("campaign"), via="admin",
            **{field: getattr(obj, field) for field in CONTACT_UPSERT_FIELDS},
        )
        obj.pk = result.contact.pk
        obj.refresh_from_db()
        self.message_user(request, lead_intake_message(result), messages.SUCCESS if result.cycle else messages.WARNING)

    @admin.display(description="meetings")
    def meetings(self, obj):
        # Meetings: the contact's meetings and the "Book a meeting" link for SDRs.
        from apps.meetings.admin import contact_meetings_html

        return contact_meetings_html(contact=obj) if obj and obj.pk else "—"

    def has_forget_permission(self, request):
        return request.user.has_perm("people.forget_contact")

    @admin.action(description="Erase personal data (right to be forgotten)…", permissions=["forget"])
    def forget_personal_data(self, request, queryset):
        if request.POST.get("confirm") == "yes":
            note = request.POST.get("note", "")
            done = [contact_forget(email=email, actor=request.user, note=note)
                    for email in queryset.values_list("email", flat=True)]
            self.message_user(
                request, f"Erased the personal data of {sum(r.found for r in done)} contact(s); the requests are logged.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(request, "admin/people/contact/forget.html", {
            **self.admin_site.each_context(request),
            "title": "Erase personal data",
            "opts": self.model._meta,
            "contacts": queryset[:200],
            "count": queryset.count(),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })


@admin.register(PersonalDataRequest)
class PersonalDataRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["requested_at", "found", "contact_id", "records_erased", "requested_by", "note"]
    list_filter = ["found"]
