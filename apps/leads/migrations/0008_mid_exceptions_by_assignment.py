"""The exceptions page's counts per reason read the period's exceptions from a partial index by
assignment time (covering what they count), not the period's every cycle AND-ed with all exceptions."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0007_merge_fair_books_and_lead_work'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='leadcycle',
            index=models.Index(condition=models.Q(('exception_at__isnull', False)), fields=['assigned_at'], include=('id', 'exception_reason', 'state', 'exception_at', 'rep', 'lead_type'), name='lead_cycle_exceptions_assigned'),
        ),
    ]
