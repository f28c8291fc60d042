"""The lead lifecycle's models move from apps.people to apps.leads in Django's state only:
each keeps its people_* table, index and constraint names, so no row is copied.
leads 0002 moves their content types (and so their permissions)."""

import datetime
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('people', '0007_personal_data_requests'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DispositionReason',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('disposition', models.CharField(choices=[('nurture', 'Nurture'), ('unqualified', 'Unqualified')], max_length=20)),
                        ('label', models.CharField(max_length=200)),
                        ('code', models.SlugField(blank=True, help_text='Set on reasons the system uses itself.')),
                        ('active', models.BooleanField(default=True, help_text='Inactive reasons are no longer offered; history keeps them.')),
                        ('position', models.PositiveSmallIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'people_dispositionreason',
                        'ordering': ['disposition', 'position', 'label'],
                        'constraints': [models.UniqueConstraint(django.db.models.functions.text.Lower('label'), models.F('disposition'), name='disposition_reason_label_unique_ci'), models.UniqueConstraint(condition=models.Q(('code', ''), _negated=True), fields=('code',), name='disposition_reason_code_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='LifecycleSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('auto_abandon_working_days', models.PositiveSmallIntegerField(default=30, help_text='Leads working at least this many days …')),
                        ('auto_abandon_idle_days', models.PositiveSmallIntegerField(default=7, help_text='… with no real activity in this many days are auto-abandoned to nurture.')),
                        ('morning_email_hour', models.PositiveSmallIntegerField(default=7, help_text="Local hour (manager's time zone) of the “clean your room” email.")),
                    ],
                    options={
                        'verbose_name': 'lead lifecycle settings',
                        'verbose_name_plural': 'lead lifecycle settings',
                        'db_table': 'people_lifecyclesettings',
                        'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='lifecycle_settings_singleton'), models.CheckConstraint(condition=models.Q(('morning_email_hour__lte', 23)), name='lifecycle_settings_hour_valid'), models.CheckConstraint(condition=models.Q(('auto_abandon_idle_days__gte', 1)), name='lifecycle_settings_idle_positive')],
                    },
                ),
                migrations.CreateModel(
                    name='SlaPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
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
                    ],
                    options={
                        'verbose_name': 'SLA policy',
                        'verbose_name_plural': 'SLA policies',
                        'db_table': 'people_slapolicy',
                        'ordering': ['lead_type', 'source'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('active', True)), fields=('lead_type', 'source'), name='sla_policy_one_active_per_type_source'), models.CheckConstraint(condition=models.Q(('maximum_minutes__gte', models.F('target_minutes'))), name='sla_policy_maximum_after_target'), models.CheckConstraint(condition=models.Q(('business_end__gt', models.F('business_start'))), name='sla_policy_business_hours_ordered')],
                    },
                ),
                migrations.CreateModel(
                    name='LeadCycle',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(help_text="1 for the contact's first cycle, 2 when recycled, …")),
                        ('lead_type', models.CharField(choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('target_account', 'Target account')], default='inbound', max_length=20)),
                        ('source', models.CharField(blank=True, choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('event', 'Event'), ('partner', 'Partner')], max_length=20)),
                        ('campaign', models.CharField(blank=True, max_length=200)),
                        ('state', models.CharField(choices=[('assigned', 'Assigned'), ('working', 'Working'), ('dispositioned', 'Dispositioned')], default='assigned', max_length=20)),
                        ('assigned_at', models.DateTimeField(help_text='The SLA clock starts here.')),
                        ('first_touch_at', models.DateTimeField(blank=True, null=True)),
                        ('worked_at', models.DateTimeField(blank=True, null=True)),
                        ('dispositioned_at', models.DateTimeField(blank=True, null=True)),
                        ('disposition', models.CharField(blank=True, choices=[('qualified', 'Qualified'), ('nurture', 'Nurture'), ('unqualified', 'Unqualified')], max_length=20)),
                        ('disposition_reason', models.CharField(blank=True, max_length=200)),
                        ('bypassed_working', models.BooleanField(default=False, help_text='Dispositioned without any real touch: counts as picked up, not in response time.')),
                        ('dispositioned_by_system', models.BooleanField(db_default=False, default=False, help_text='Set when a scheduled job (auto-abandon, end of cadence) dispositioned the lead.')),
                        ('sla_target_at', models.DateTimeField(blank=True, null=True)),
                        ('sla_maximum_at', models.DateTimeField(blank=True, null=True)),
                        ('response_time', models.DurationField(blank=True, help_text="First real touch − assigned at, on the policy's clock.", null=True)),
                        ('reassignment_count', models.PositiveSmallIntegerField(db_default=0, default=0)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lead_cycles', to='people.contact')),
                        ('dispositioned_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('qualified_override_by', models.ForeignKey(blank=True, help_text='The manager who qualified the lead without a meeting or opportunity.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('reason', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='lead_cycles', to='leads.dispositionreason')),
                        ('rep', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='lead_cycles', to='people.rep')),
                        ('sla_policy', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='lead_cycles', to='leads.slapolicy')),
                    ],
                    options={
                        'db_table': 'people_leadcycle',
                        'ordering': ['-assigned_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='TeamPullRange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('minimum', models.PositiveSmallIntegerField(default=10)),
                        ('maximum', models.PositiveSmallIntegerField(default=15)),
                        ('team', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='pull_range', to='people.team')),
                    ],
                    options={
                        'db_table': 'people_teampullrange',
                    },
                ),
                migrations.CreateModel(
                    name='LeadCycleEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('assigned', 'Assigned'), ('worked', 'Moved to working'), ('dispositioned', 'Dispositioned'), ('reassigned', 'Re-assigned (SLA)')], max_length=20)),
                        ('from_state', models.CharField(blank=True, max_length=20)),
                        ('to_state', models.CharField(blank=True, max_length=20)),
                        ('occurred_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('note', models.CharField(blank=True, max_length=255)),
                        ('actor', models.ForeignKey(blank=True, help_text='Empty when a scheduled job did it.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='leads.leadcycle')),
                        ('from_rep', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.rep')),
                        ('to_rep', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.rep')),
                    ],
                    options={
                        'db_table': 'people_leadcycleevent',
                        'ordering': ['occurred_at', 'id'],
                        'indexes': [models.Index(fields=['cycle', 'occurred_at'], name='people_lead_cycle_i_3b1ba8_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='MorningEmail',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('local_date', models.DateField()),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('items', models.PositiveIntegerField(default=0)),
                        ('manager', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='morning_emails', to='people.rep')),
                    ],
                    options={
                        'db_table': 'people_morningemail',
                        'ordering': ['-local_date'],
                        'constraints': [models.UniqueConstraint(fields=('manager', 'local_date'), name='morning_email_once_a_day')],
                    },
                ),
                migrations.CreateModel(
                    name='SlaBreach',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('target', 'Past target (rep reminded)'), ('maximum', 'Past maximum (escalated)')], max_length=10)),
                        ('assigned_at', models.DateTimeField(help_text='The assignment whose clock ran out.')),
                        ('due_at', models.DateTimeField()),
                        ('breached_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('note', models.CharField(blank=True, max_length=255)),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sla_breaches', to='leads.leadcycle')),
                        ('reassigned_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.rep')),
                        ('rep', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='sla_breaches', to='people.rep')),
                    ],
                    options={
                        'verbose_name': 'SLA breach',
                        'verbose_name_plural': 'SLA breaches',
                        'db_table': 'people_slabreach',
                        'ordering': ['-breached_at', '-id'],
                        'indexes': [models.Index(fields=['rep', 'breached_at'], name='people_slab_rep_id_39d851_idx')],
                        'constraints': [models.UniqueConstraint(fields=('cycle', 'kind', 'assigned_at'), name='sla_breach_once_per_assignment')],
                    },
                ),
                migrations.AddIndex(
                    model_name='leadcycle',
                    index=models.Index(fields=['assigned_at'], name='people_lead_assigne_25898d_idx'),
                ),
                migrations.AddIndex(
                    model_name='leadcycle',
                    index=models.Index(fields=['rep', 'assigned_at'], name='people_lead_rep_id_948867_idx'),
                ),
                migrations.AddIndex(
                    model_name='leadcycle',
                    index=models.Index(fields=['state', 'assigned_at'], name='people_lead_state_af0eb3_idx'),
                ),
                migrations.AddIndex(
                    model_name='leadcycle',
                    index=models.Index(fields=['state', 'sla_maximum_at'], name='lead_cycle_sla_due'),
                ),
                migrations.AddIndex(
                    model_name='leadcycle',
                    index=models.Index(condition=models.Q(('state', 'dispositioned'), _negated=True), fields=['rep'], name='lead_cycle_open_by_rep'),
                ),
                migrations.AddConstraint(
                    model_name='leadcycle',
                    constraint=models.UniqueConstraint(fields=('contact', 'number'), name='lead_cycle_number_unique'),
                ),
                migrations.AddConstraint(
                    model_name='leadcycle',
                    constraint=models.UniqueConstraint(condition=models.Q(('state', 'dispositioned'), _negated=True), fields=('contact',), name='lead_cycle_one_open_per_contact'),
                ),
                migrations.AddConstraint(
                    model_name='leadcycle',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('dispositioned_at__isnull', False), ('state', 'dispositioned'), models.Q(('disposition', ''), _negated=True)), models.Q(models.Q(('state', 'dispositioned'), _negated=True), ('disposition', ''), ('dispositioned_at__isnull', True)), _connector='OR'), name='lead_cycle_disposition_matches_state'),
                ),
                migrations.AddConstraint(
                    model_name='leadcycle',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'working'), _negated=True), models.Q(('first_touch_at__isnull', False), ('worked_at__isnull', False)), _connector='OR'), name='lead_cycle_working_has_touch'),
                ),
                migrations.AddConstraint(
                    model_name='leadcycle',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('disposition__in', ['nurture', 'unqualified']), _negated=True), ('reason__isnull', False), _connector='OR'), name='lead_cycle_nurture_unqualified_need_reason'),
                ),
                migrations.AddConstraint(
                    model_name='teampullrange',
                    constraint=models.CheckConstraint(condition=models.Q(('maximum__gte', models.F('minimum'))), name='pull_range_ordered'),
                ),
            ],
            # The tables stay where they are (db_table keeps the people_* names).
            database_operations=[],
        ),
    ]
