"""The moved models' content types follow them from "people" to "leads": the same rows get
the new app label, so every permission (and the groups and users holding it) and every admin
history entry keeps pointing at them. Then the role groups are re-synced (apps.people.roles
now names "leads" permissions) and the lifecycle's schedules are re-pointed at
apps.leads.tasks (same names, ops' timings kept)."""

from django.db import migrations

MOVED = (
    "leadcycle", "leadcycleevent", "dispositionreason", "slapolicy", "slabreach",
    "lifecyclesettings", "teampullrange", "morningemail",
)


def _relabel(apps, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=old_label, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=new_label, model=model).first()
        if new is None:
            old.app_label = new_label
            old.save(update_fields=["app_label"])
            continue
        # Something created the new row first (e.g. a permissions sync between the two
        # migrations): keep it and carry over what points at the old one.
        for perm in Permission.objects.filter(content_type=old):
            target = Permission.objects.filter(content_type=new, codename=perm.codename).first()
            if target is None:
                perm.content_type = new
                perm.save(update_fields=["content_type"])
                continue
            for group in perm.group_set.all():
                group.permissions.add(target)
            for user in perm.user_set.all():
                user.user_permissions.add(target)
            perm.delete()
        LogEntry.objects.filter(content_type=old).update(content_type=new)
        old.delete()


def forwards(apps, schema_editor):
    from apps.leads.schedules import schedules_sync
    from apps.people.roles import sync_role_groups

    _relabel(apps, "people", "leads")
    sync_role_groups(apps)
    schedules_sync(apps)


def backwards(apps, schema_editor):
    _relabel(apps, "leads", "people")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_move_lead_models_from_people"),
        ("people", "0008_move_lead_models_from_people"),
        ("cadences", "0003_move_lead_models_from_people"),
        ("meetings", "0003_move_lead_models_from_people"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
