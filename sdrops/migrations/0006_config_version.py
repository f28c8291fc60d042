"""The configuration version the per-process caches check (sdrops/config_cache.py): a
statement-level trigger on each cached table moves it to the next value of a sequence in
the transaction of the change. Add a table here (in a new migration) when a new cache reads it."""

from django.db import migrations, models

# (table, the columns whose update matters; None: every update)
CACHED_TABLES = [
    ("integrations_webhookendpoint", "active, event_types"),
    ("people_slapolicy", None),
    ("accounts_webmaildomain", None),
    ("icps_icp", None),
    ("icps_rule", None),
    ("icps_signaltype", None),
    ("icps_scoringsettings", None),
    ("auth_permission", None),
    ("auth_group_permissions", None),
    ("auth_user_groups", None),
    ("auth_user_user_permissions", None),
]


def _triggers() -> str:
    out = []
    for table, columns in CACHED_TABLES:
        update = f"UPDATE OF {columns}" if columns else "UPDATE"
        out.append(
            f"CREATE TRIGGER sdrops_config_bump AFTER INSERT OR {update} OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION sdrops_config_bump();"
            f"CREATE TRIGGER sdrops_config_bump_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION sdrops_config_bump();"
        )
    return "\n".join(out)


SQL = """
CREATE SEQUENCE sdrops_config_version_seq;
INSERT INTO sdrops_configversion (id, version) VALUES (1, nextval('sdrops_config_version_seq'));
CREATE FUNCTION sdrops_config_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sdrops_configversion (id, version) VALUES (1, nextval('sdrops_config_version_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;
""" + _triggers()

REVERSE = "".join(
    f"DROP TRIGGER IF EXISTS sdrops_config_bump ON {t}; DROP TRIGGER IF EXISTS sdrops_config_bump_truncate ON {t};"
    for t, _ in CACHED_TABLES
) + "DROP FUNCTION IF EXISTS sdrops_config_bump(); DROP SEQUENCE IF EXISTS sdrops_config_version_seq;"


class Migration(migrations.Migration):

    dependencies = [
        ('sdrops', '0005_alarm_settings_history'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('accounts', '0008_alter_activity_type'),
        ('icps', '0003_default_signal_types_checklist_nightly_schedule'),
        ('integrations', '0006_chat_alert_event_type'),
        ('leads', '0002_content_types_roles_schedules'),
    ]

    operations = [
        migrations.CreateModel(
            name='ConfigVersion',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('version', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='configversion_single_row')],
            },
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
