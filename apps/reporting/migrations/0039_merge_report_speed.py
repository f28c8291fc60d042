# The four report-speed lines of work (ICP and account coverage, campaigns and nurture, lead
# response and open leads, fairness / handle times / exception subtractions) were built side by
# side from 0028; each keeps its own tables, functions and triggers, so they apply in any order.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0032_camp_campaign_opportunities"),
        ("reporting", "0032_icp_account_contact_triggers"),
        ("reporting", "0037_lresp_arrival_rebuild_in_place"),
        ("reporting", "0038_mid_step_reached_day_triggers"),
    ]

    operations = []
