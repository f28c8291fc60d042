"""The database cache's table, created by `migrate` itself.

The API's rate-limit counters (apps/integrations/throttling.py) and django-q2's cluster
status live in the shared cache, which without REDIS_URL is Django's DatabaseCache. Its
table used to come only from `createcachetable` in run_portal, so a database set up with a
plain `migrate` (make migrate, a deploy script, a new test server) answered every API
request with `relation "sdrops_cache" does not exist`. Django's own command creates it
here (the exact schema Django expects; nothing when it exists or when the cache is Redis).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0004_webhook_signing_standard")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
