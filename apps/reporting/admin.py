from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from apps.people.models import Rep
from apps.reporting.models import FunnelTargets, RepTarget, SegmentTarget
from sdrops.access import reps_visible_to
from sdrops.settings_admin import SettingsHistoryAdminMixin, SingletonSettingsAdminMixin


@admin.register(FunnelTargets)
class FunnelTargetsAdmin(SingletonSettingsAdminMixin, SettingsHistoryAdminMixin, admin.ModelAdmin):
    readonly_fields = ["updated_at"]

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(SegmentTarget)
class SegmentTargetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "cadence", "meetings_held", "saos", "pipeline"]


@admin.register(RepTarget)
class RepTargetAdmin(admin.ModelAdmin):
    """A manager sets their own SDRs' months (the reps they see); ops anyone's."""

    list_display = ["rep", "month", "meetings_held", "saos", "pipeline", "set_by", "updated_at"]
    list_select_related = ["rep", "set_by"]
    list_filter = ["month"]
    readonly_fields = ["set_by", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(rep__in=reps_visible_to(user=request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "rep":
            kwargs["queryset"] = reps_visible_to(user=request.user).filter(role=Rep.Role.SDR, active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.month = obj.month.replace(day=1)
        obj.set_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
