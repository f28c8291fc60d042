"""Data for apps.campaigns, idempotent (every statement is safe to run twice):

1. Every distinct free-text campaign on a lead cycle becomes a Campaign record (the earliest
   cycle's spelling, ties by id), and each such cycle is linked to it by a "carried over"
   interaction; the free text stays on the cycle. Raw SQL over the tables, not historical
   models, so it does not depend on which app holds the lead models' state.
2. The nurture defaults (the "Opportunity lost" system reason, default programs), the alarm
   settings row, the scheduled jobs, and the role permissions.
"""

from django.db import migrations

CREATE_CAMPAIGNS = """
    INSERT INTO campaigns_campaign (name, source, channel, offer, goal, cost, description, created_at)
    SELECT DISTINCT ON (lower(btrim(c.campaign))) btrim(c.campaign), 'inbound', '', 'other', 'leads', 0,
           'Created from the free-text campaign of existing lead cycles.', now()
    FROM people_leadcycle c
    WHERE btrim(c.campaign) <> ''
    ORDER BY lower(btrim(c.campaign)), c.assigned_at, c.id
    ON CONFLICT DO NOTHING
"""
LINK_CYCLES = """
    INSERT INTO campaigns_campaigninteraction (campaign_id, contact_id, lead_cycle_id, occurred_at, via)
    SELECT k.id, c.contact_id, c.id, c.assigned_at, 'migration'
    FROM people_leadcycle c
    JOIN campaigns_campaign k ON lower(k.name) = lower(btrim(c.campaign))
    WHERE btrim(c.campaign) <> ''
    ON CONFLICT DO NOTHING
"""


def reference_data(apps, schema_editor):
    from apps.campaigns.defaults import nurture_defaults_ensure
    from apps.campaigns.schedules import schedules_ensure
    from apps.people.roles import sync_role_groups

    nurture_defaults_ensure(apps)
    apps.get_model("campaigns", "AlarmSettings").objects.get_or_create(pk=1)
    schedules_ensure(apps.get_model("django_q", "Schedule"))
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_campaigns_nurture_alarms"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunSQL(CREATE_CAMPAIGNS, migrations.RunSQL.noop),
        migrations.RunSQL(LINK_CYCLES, migrations.RunSQL.noop),
        migrations.RunPython(reference_data, migrations.RunPython.noop),
    ]
