"""Every distinct free-text campaign on a lead cycle becomes a Campaign record, and each such
cycle is linked to it by a "carried over" interaction. The free text stays on the cycle.

Raw SQL over the tables (not historical models) so this still runs after the lead models move
between apps: their tables keep the people_* names. Running it twice adds nothing (names are
unique case-insensitively; one interaction per cycle). Also grants the role permissions.
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


def roles(apps, schema_editor):
    from apps.people.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_campaigns"),
    ]

    operations = [
        migrations.RunSQL(CREATE_CAMPAIGNS, migrations.RunSQL.noop),
        migrations.RunSQL(LINK_CYCLES, migrations.RunSQL.noop),
        migrations.RunPython(roles, migrations.RunPython.noop),
    ]
