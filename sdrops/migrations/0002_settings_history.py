"""Change history of every settings model (django-pghistory event tables; sdrops/models.py)."""

import apps.routing.models
import datetime
import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pghistory', '0007_auto_20250421_0444'),
        ('sdrops', '0001_schedule_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='FunnelTargetsEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('mql_sql_target', models.DecimalField(decimal_places=2, default=Decimal('25'), help_text='MQL → SQL above this is on target (%).', max_digits=5)),
                ('mql_sql_warning', models.DecimalField(decimal_places=2, default=Decimal('15'), help_text='MQL → SQL below this is a warning (%).', max_digits=5)),
                ('sql_opp_target', models.DecimalField(decimal_places=2, default=Decimal('40'), help_text='SQL → Opp above this is on target (%).', max_digits=5)),
                ('sql_opp_warning', models.DecimalField(decimal_places=2, default=Decimal('25'), help_text='SQL → Opp below this is a warning (%).', max_digits=5)),
                ('mql_opp_target', models.DecimalField(decimal_places=2, default=Decimal('10'), help_text='MQL → Opp above this is on target (%).', max_digits=5)),
                ('mql_opp_warning', models.DecimalField(decimal_places=2, default=Decimal('5'), help_text='MQL → Opp below this is a warning (%).', max_digits=5)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='LifecycleSettingsEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('auto_abandon_working_days', models.PositiveSmallIntegerField(default=30, help_text='Leads working at least this many days …')),
                ('auto_abandon_idle_days', models.PositiveSmallIntegerField(default=7, help_text='… with no real activity in this many days are auto-abandoned to nurture.')),
                ('morning_email_hour', models.PositiveSmallIntegerField(default=7, help_text="Local hour (manager's time zone) of the “clean your room” email.")),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='MeetingSettingsEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('no_show_limit', models.PositiveSmallIntegerField(default=2, help_text='Further no-shows allowed after the first before the lead is abandoned to nurture.')),
                ('reschedule_touches', models.PositiveSmallIntegerField(default=5, help_text='Touches the SDR makes to reschedule after a no-show.')),
                ('reschedule_days', models.PositiveSmallIntegerField(default=7, help_text='Days the reschedule attempt lasts.')),
                ('disposition_due_hours', models.PositiveSmallIntegerField(default=24, help_text="Hours after a meeting's scheduled end by which it must be dispositioned.")),
                ('default_duration_minutes', models.PositiveSmallIntegerField(default=30)),
                ('opportunity_at_booking', models.BooleanField(default=False, help_text='Open an opportunity at stage 1 (meeting scheduled) when an initial meeting is booked, instead of when it is completed as qualified.')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='RulesOfEngagementEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('key', models.CharField(default='default', editable=False, max_length=20)),
                ('inactivity_days', models.PositiveSmallIntegerField(default=30, help_text='Days without meaningful activity before an account is retrieved (15-90).', validators=[django.core.validators.MinValueValidator(15), django.core.validators.MaxValueValidator(90)])),
                ('rest_days', models.PositiveSmallIntegerField(default=14, help_text='Days a retrieved or returned account rests before it can be distributed again.', validators=[django.core.validators.MaxValueValidator(365)])),
                ('rest_days_by_reason', models.JSONField(blank=True, default=apps.routing.models.default_rest_days_by_reason, help_text='Rest days per return reason overriding the default, e.g. {"not_interested": 90}.')),
                ('meaningful_activity_types', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('call', 'Call'), ('email', 'Email'), ('social', 'Social'), ('meeting', 'Meeting'), ('note', 'Note'), ('account_viewed', 'Account viewed'), ('contact_added', 'Contact added'), ('intelligence_run', 'Intelligence run'), ('deal_created', 'Deal created')], max_length=20), default=apps.routing.models.default_meaningful_types, help_text='Activity types that count as working an account (automated touches never count).', size=None)),
                ('exempt_open_opportunity', models.BooleanField(default=True, help_text='Never retrieve an account with an open opportunity.')),
                ('exempt_meeting_scheduled', models.BooleanField(default=True, help_text='Never retrieve an account with a meeting scheduled.')),
                ('exempt_pending_return', models.BooleanField(default=True, help_text='Never retrieve an account with a pending return.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='ScoringSettingsEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('tier_a_min', models.PositiveSmallIntegerField(default=70, verbose_name='tier A from total')),
                ('tier_b_min', models.PositiveSmallIntegerField(default=40, verbose_name='tier B from total')),
                ('fit_threshold', models.PositiveSmallIntegerField(default=24, help_text='Fit score at or above this counts as fit.')),
                ('readiness_threshold', models.PositiveSmallIntegerField(default=15, help_text='Readiness score at or above this counts as in market.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='SlaPolicyEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('name', models.CharField(max_length=100)),
                ('lead_type', models.CharField(choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('target_account', 'Target account')], max_length=20)),
                ('source', models.CharField(blank=True, choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('event', 'Event'), ('partner', 'Partner')], help_text='Empty: any source without its own policy.', max_length=20)),
                ('target_minutes', models.PositiveIntegerField(default=120, help_text='The rep is reminded once past this.')),
                ('maximum_minutes', models.PositiveIntegerField(default=1440, help_text='Past this the lead is re-assigned.')),
                ('clock', models.CharField(choices=[('calendar', 'Calendar hours'), ('business', 'Business hours')], default='calendar', max_length=10)),
                ('business_start', models.TimeField(default=datetime.time(9, 0))),
                ('business_end', models.TimeField(default=datetime.time(17, 0))),
                ('working_days', models.CharField(default='0,1,2,3,4', help_text='Weekday numbers, Monday = 0 (e.g. 0,1,2,3,4).', max_length=13)),
                ('holiday_country', models.CharField(blank=True, help_text='ISO country code whose public holidays are not business days (e.g. US).', max_length=2)),
                ('holiday_subdivision', models.CharField(blank=True, help_text='State/province code, optional.', max_length=10)),
                ('reassign', models.BooleanField(default=True, help_text='Re-assign to the next available rep past the maximum.')),
                ('active', models.BooleanField(default=True)),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
            ],
            options={
                'abstract': False,
            },
        ),
    ]
