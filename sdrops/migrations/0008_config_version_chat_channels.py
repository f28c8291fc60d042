"""The SLA escalation check of apps.connect reads chat channels through the configuration
cache (sdrops/config_cache.py): their changes move the version too."""

from django.db import migrations

TABLE = "connect_chatchannel"

SQL = (
    f"CREATE TRIGGER sdrops_config_bump AFTER INSERT OR UPDATE OF active, alerts OR DELETE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION sdrops_config_bump();"
    f"CREATE TRIGGER sdrops_config_bump_truncate AFTER TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION sdrops_config_bump();"
)
REVERSE = (
    f"DROP TRIGGER IF EXISTS sdrops_config_bump ON {TABLE}; "
    f"DROP TRIGGER IF EXISTS sdrops_config_bump_truncate ON {TABLE};"
)


class Migration(migrations.Migration):

    dependencies = [
        ("sdrops", "0007_api_throttle"),
        ("connect", "0005_crm_links_and_mappings"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
