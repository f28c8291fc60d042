"""Meeting.lead_cycle points at leads.LeadCycle (the same table): state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0001_move_lead_models_from_people'),
        ('meetings', '0002_stages_settings_schedules_roles'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='meeting',
                    name='lead_cycle',
                    field=models.ForeignKey(blank=True, help_text='The lead cycle the meeting was booked in; no-shows are counted per cycle.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='meetings', to='leads.leadcycle'),
                ),
            ],
            # The tables stay where they are (db_table keeps the people_* names).
            database_operations=[],
        ),
    ]
