"""reporting.ExceptionEnrolment: the enrolment facts of exception cycles by time (triggers: migration 0036)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0034_mid_exception_meeting_day_triggers'),
    ]

    operations = [
        migrations.CreateModel(
            name='ExceptionEnrolment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('enrolment_id', models.BigIntegerField(unique=True)),
                ('lead_cycle_id', models.BigIntegerField(db_index=True)),
                ('enrolled_at', models.DateTimeField(db_index=True)),
            ],
        ),
    ]
