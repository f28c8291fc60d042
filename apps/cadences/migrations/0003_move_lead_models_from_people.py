"""Enrolment.lead_cycle points at leads.LeadCycle (the same table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cadences', '0002_default_cadences_and_schedules'),
        ('leads', '0001_move_lead_models_from_people'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='enrolment',
                    name='lead_cycle',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='enrolments', to='leads.leadcycle'),
                ),
            ],
            # The tables stay where they are (db_table keeps the people_* names).
            database_operations=[],
        ),
    ]
