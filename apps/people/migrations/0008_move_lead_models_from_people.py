"""The lead lifecycle's models leave people's state (they are apps.leads' now, same tables);
nothing changes in the database."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cadences', '0003_move_lead_models_from_people'),
        ('meetings', '0003_move_lead_models_from_people'),
        ('people', '0007_personal_data_requests'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='leadcycle',
                    name='reason',
                ),
                migrations.RemoveField(
                    model_name='leadcycle',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='leadcycle',
                    name='dispositioned_by',
                ),
                migrations.RemoveField(
                    model_name='leadcycle',
                    name='qualified_override_by',
                ),
                migrations.RemoveField(
                    model_name='leadcycle',
                    name='rep',
                ),
                migrations.RemoveField(
                    model_name='leadcycle',
                    name='sla_policy',
                ),
                migrations.RemoveField(
                    model_name='slabreach',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='leadcycleevent',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='leadcycleevent',
                    name='actor',
                ),
                migrations.RemoveField(
                    model_name='leadcycleevent',
                    name='from_rep',
                ),
                migrations.RemoveField(
                    model_name='leadcycleevent',
                    name='to_rep',
                ),
                migrations.DeleteModel(
                    name='LifecycleSettings',
                ),
                migrations.RemoveField(
                    model_name='morningemail',
                    name='manager',
                ),
                migrations.RemoveField(
                    model_name='slabreach',
                    name='reassigned_to',
                ),
                migrations.RemoveField(
                    model_name='slabreach',
                    name='rep',
                ),
                migrations.RemoveField(
                    model_name='teampullrange',
                    name='team',
                ),
                migrations.DeleteModel(
                    name='DispositionReason',
                ),
                migrations.DeleteModel(
                    name='SlaPolicy',
                ),
                migrations.DeleteModel(
                    name='LeadCycle',
                ),
                migrations.DeleteModel(
                    name='LeadCycleEvent',
                ),
                migrations.DeleteModel(
                    name='MorningEmail',
                ),
                migrations.DeleteModel(
                    name='SlaBreach',
                ),
                migrations.DeleteModel(
                    name='TeamPullRange',
                ),
            ],
            # The tables stay where they are (db_table keeps the people_* names).
            database_operations=[],
        ),
    ]
