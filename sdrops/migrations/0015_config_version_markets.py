"""The record page and the account-coverage report read the coverage settings and the active
market segment rules through the configuration cache (sdrops/config_cache.py): their changes
move the version too."""

from django.db import migrations

TABLES = ["markets_coveragesettings", "markets_marketsegmentrule"]

SQL = "".join(
    f"CREATE TRIGGER sdrops_config_bump AFTER INSERT OR UPDATE OR DELETE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION sdrops_config_bump();"
    f"CREATE TRIGGER sdrops_config_bump_truncate AFTER TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION sdrops_config_bump();"
    for table in TABLES
)
REVERSE = "".join(
    f"DROP TRIGGER IF EXISTS sdrops_config_bump ON {table}; DROP TRIGGER IF EXISTS sdrops_config_bump_truncate ON {table};"
    for table in TABLES
)


class Migration(migrations.Migration):

    dependencies = [
        ("sdrops", "0014_alarm_settings_field_history"),
        ("markets", "0004_segment_since_index"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
