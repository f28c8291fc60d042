"""Chat channels' webhook URLs stored in clear so far are encrypted (sdrops/secrets.py); the
endpoint keeps only the scheme and host. Not reversible into clear text on purpose: going
back leaves the encrypted value, which the older code cannot use — enter the URLs again."""

from django.db import migrations

from sdrops.secrets import secret_encrypt, url_shown


def encrypt(apps, schema_editor):
    ChatChannel = apps.get_model("connect", "ChatChannel")
    WebhookEndpoint = apps.get_model("integrations", "WebhookEndpoint")
    endpoint_ids = ChatChannel.objects.values_list("endpoint_id", flat=True)
    for endpoint in WebhookEndpoint.objects.filter(pk__in=endpoint_ids, url_encrypted="").order_by("pk"):
        endpoint.url_encrypted = secret_encrypt(endpoint.url)
        endpoint.url = url_shown(endpoint.url).removesuffix("…")
        endpoint.save(update_fields=["url", "url_encrypted"])


class Migration(migrations.Migration):
    dependencies = [
        ("connect", "0005_crm_links_and_mappings"),
        ("integrations", "0007_webhook_url_encrypted"),
    ]

    operations = [migrations.RunPython(encrypt, migrations.RunPython.noop)]
