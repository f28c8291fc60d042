"""The fairness statement's routing rollups: reporting.RoutingDecisionDay (decisions per UTC day,
rep and outcome: the turns) and reporting.RoutingSkipDay (skips per UTC day, skipped rep and
reason), kept by the triggers of migration 0032."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0030_mid_handle_day_triggers'),
    ]

    operations = [
        migrations.CreateModel(
            name='RoutingDecisionDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('rep_id', models.BigIntegerField()),
                ('outcome', models.CharField(max_length=20)),
                ('decisions', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'rep_id', 'outcome'), name='reporting_routingdecisionday_key')],
            },
        ),
        migrations.CreateModel(
            name='RoutingSkipDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('rep_id', models.BigIntegerField()),
                ('reason', models.TextField()),
                ('skips', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'rep_id', 'reason'), name='reporting_routingskipday_key')],
            },
        ),
    ]
