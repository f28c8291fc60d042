from django.db import migrations


def forwards(apps, schema_editor):
    from apps.integrations.tasks import outbox_schedule_ensure
    from apps.people.roles import sync_role_groups

    # Ops admins manage integrations; the sweep retries webhook deliveries every minute.
    sync_role_groups(apps)
    outbox_schedule_ensure(apps.get_model("django_q", "Schedule"))


def backwards(apps, schema_editor):
    from apps.integrations.tasks import SWEEP_SCHEDULE_NAME

    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP_SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_integrations_outbox_webhooks"),
        ("people", "0003_lead_cycles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
