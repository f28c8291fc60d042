"""One naming style for schedules ("<app>.<job>", sdrops/schedules.py). Existing rows are
renamed in place, so the timing ops edited in the admin stays with them."""

from django.db import migrations

RENAMES = {
    "meetings: remind AEs when a meeting ends": "meetings.remind_ended_meetings",
    "meetings: escalate overdue dispositions to sales managers": "meetings.escalate_overdue_meetings",
    "meetings: close expired reschedule tasks": "meetings.expire_reschedule_attempts",
    "Lead SLA check": "cadences.lead_sla_check",
    "Lead auto-abandon": "cadences.lead_auto_abandon",
    "Cadence overdue steps": "cadences.cadence_overdue_steps",
    "Morning clean-your-room emails": "cadences.lead_morning_emails",
    "integrations: deliver webhook outbox": "integrations.outbox_sweep",
    "integrations: clean up old webhook history": "integrations.history_prune",
    "icps: nightly rescore": "icps.nightly_rescore",
}


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in RENAMES.items():
        if Schedule.objects.filter(name=new).exists():
            # Created under the new name already (a fresh database): the old row is a leftover.
            Schedule.objects.filter(name=old).delete()
        else:
            Schedule.objects.filter(name=old).update(name=new)


class Migration(migrations.Migration):
    dependencies = [
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("cadences", "0002_default_cadences_and_schedules"),
        ("meetings", "0002_stages_settings_schedules_roles"),
        ("integrations", "0002_ops_permissions_and_outbox_schedule"),
        ("icps", "0003_default_signal_types_checklist_nightly_schedule"),
    ]
    # Backwards keeps the new names: the first migrations' own backwards steps look rows
    # up by the names their modules declare today.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
