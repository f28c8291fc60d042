from django.db import migrations


def forwards(apps, schema_editor):
    from apps.people.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("accounts", "0003_domain_belongs_to_one_account"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
