"""The lead lifecycle's jobs moved from apps.cadences to apps.leads (names "leads.<job>",
sdrops/schedules.py). Existing rows — under the first names or 0001's `cadences.*` ones —
are renamed in place and re-pointed at apps.leads.tasks, so the timing ops edited in the
admin stays with them. A row of the new name that a migration created meanwhile (leads 0002
on a database that still had the old rows) has the default timing: the old row wins."""

from django.db import migrations

RENAMES = {
    "leads.sla_check": ("apps.leads.tasks.lead_sla_check", ["cadences.lead_sla_check", "Lead SLA check"]),
    "leads.auto_abandon": ("apps.leads.tasks.lead_auto_abandon", ["cadences.lead_auto_abandon", "Lead auto-abandon"]),
    "leads.morning_emails": (
        "apps.leads.tasks.lead_morning_emails",
        ["cadences.lead_morning_emails", "Morning clean-your-room emails"],
    ),
}


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for new, (func, olds) in RENAMES.items():
        old_rows = list(Schedule.objects.filter(name__in=olds).order_by("pk"))
        if not old_rows:
            continue
        keep, *extra = old_rows
        Schedule.objects.filter(pk__in=[row.pk for row in extra]).delete()
        Schedule.objects.filter(name=new).delete()
        keep.name = new
        keep.func = func
        keep.save(update_fields=["name", "func"])


class Migration(migrations.Migration):
    dependencies = [
        ("sdrops", "0002_settings_history"),
        ("leads", "0002_content_types_roles_schedules"),
    ]
    # Backwards keeps the new names (as 0001 does).
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
