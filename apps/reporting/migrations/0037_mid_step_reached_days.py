"""reporting.StepReachedDay and StepReachedCadenceDay: the cadence page's reached steps per day (triggers: migration 0038)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0036_mid_exception_enrolment_triggers'),
    ]

    operations = [
        migrations.CreateModel(
            name='StepReachedCadenceDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('cadence_id', models.BigIntegerField()),
                ('position', models.SmallIntegerField()),
                ('outcome', models.CharField(max_length=20)),
                ('steps', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'cadence_id', 'position', 'outcome'), name='reporting_stepreachedcadenceday_key')],
            },
        ),
        migrations.CreateModel(
            name='StepReachedDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('rep_id', models.BigIntegerField()),
                ('cadence_id', models.BigIntegerField()),
                ('position', models.SmallIntegerField()),
                ('outcome', models.CharField(max_length=20)),
                ('steps', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'rep_id', 'cadence_id', 'position', 'outcome'), name='reporting_stepreachedday_key')],
            },
        ),
    ]
