"""reporting.ExceptionMeetingDay: the meetings of exception cycles per UTC day (triggers: migration 0034)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0032_mid_routing_day_triggers'),
    ]

    operations = [
        migrations.CreateModel(
            name='ExceptionMeetingDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('sdr_id', models.BigIntegerField()),
                ('ae_id', models.BigIntegerField()),
                ('status', models.CharField(max_length=30)),
                ('late', models.BooleanField()),
                ('meetings', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'sdr_id', 'ae_id', 'status', 'late'), name='reporting_exceptionmeetingday_key')],
            },
        ),
    ]
