"""The configuration version row is no longer Django's to manage: a flush (transactional
tests) must not truncate it, or caching would stop until the next configuration change."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sdrops', '0008_config_version_chat_channels'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='configversion',
            options={'managed': False},
        ),
    ]
