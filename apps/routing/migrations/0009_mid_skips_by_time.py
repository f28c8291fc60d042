"""The fairness statement's newest skips read newest first from a partial index of the decisions
that skipped someone, stopping at the list's length."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0008_merge_fair_books_and_lead_work'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='routingdecision',
            index=models.Index(condition=models.Q(('skipped', []), _negated=True), fields=['decided_at', 'id'], name='routingdecision_skips_by_time'),
        ),
    ]
