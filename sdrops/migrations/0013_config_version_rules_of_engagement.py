"""Owner changes read the rules of engagement (whether follow-up tasks move with the account)
through the configuration cache (sdrops/config_cache.py): their changes move the version too."""

from django.db import migrations

TABLE = "routing_rulesofengagement"

SQL = (
    f"CREATE TRIGGER sdrops_config_bump AFTER INSERT OR UPDATE OR DELETE ON {TABLE} "
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
        ("sdrops", "0012_merge_fair_books_and_lead_work"),
        ("routing", "0008_merge_fair_books_and_lead_work"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
