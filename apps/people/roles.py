"""Role groups and what each may do in the admin.

Row-level scoping (an SDR sees only their own book) lives in the selectors; these model
permissions say which kinds of record a role may view, add or change at all. Migrations
call `sync_role_groups` so a fresh database and an upgraded one end with the same groups;
apps added later add a migration that calls it again (it is idempotent).
"""

from __future__ import annotations

OPS = "Ops admin"
MANAGER = "Manager"
SDR = "SDR"
AE = "AE"

LOCAL_APP_LABELS = (
    "accounts", "people", "leads", "icps", "routing", "cadences", "meetings", "reporting", "integrations", "campaigns",
    "connect", "markets",
)

# (app_label, codename) pairs; "*" as codename grants every permission of that app.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    OPS: [(label, "*") for label in LOCAL_APP_LABELS]
    + [("django_q", "*"), ("auth", "view_user"), ("auth", "change_user"), ("auth", "add_user")],
    MANAGER: [
        ("accounts", "view_account"), ("accounts", "change_account"),
        ("accounts", "view_domainalias"), ("accounts", "add_domainalias"), ("accounts", "change_domainalias"),
        ("accounts", "view_ownershipevent"), ("accounts", "view_activity"), ("accounts", "add_activity"),
        ("people", "view_contact"), ("people", "change_contact"), ("people", "view_rep"), ("people", "view_team"),
    ],
    SDR: [
        ("accounts", "view_account"), ("accounts", "change_account"),
        ("accounts", "view_domainalias"), ("accounts", "add_domainalias"),
        ("accounts", "view_ownershipevent"), ("accounts", "view_activity"), ("accounts", "add_activity"),
        ("people", "view_contact"), ("people", "add_contact"), ("people", "change_contact"), ("people", "view_rep"),
    ],
    AE: [
        ("accounts", "view_account"), ("accounts", "view_domainalias"), ("accounts", "view_ownershipevent"),
        ("accounts", "view_activity"), ("accounts", "add_activity"),
        ("people", "view_contact"), ("people", "view_rep"),
    ],
}

# Meetings and opportunities: SDRs book and reschedule, AEs disposition and own
# opportunities, managers oversee both. Row scoping is in apps.meetings.selectors.
ROLE_PERMISSIONS[SDR] += [
    ("meetings", "view_meeting"), ("meetings", "add_meeting"), ("meetings", "change_meeting"),
    ("meetings", "view_opportunity"), ("meetings", "view_opportunityevent"), ("meetings", "view_rescheduleattempt"),
]
ROLE_PERMISSIONS[AE] += [
    ("meetings", "view_meeting"), ("meetings", "change_meeting"), ("meetings", "view_opportunity"),
    ("meetings", "change_opportunity"), ("meetings", "view_opportunityevent"),
]
ROLE_PERMISSIONS[MANAGER] += [
    ("meetings", "view_meeting"), ("meetings", "add_meeting"), ("meetings", "change_meeting"),
    ("meetings", "view_opportunity"), ("meetings", "change_opportunity"), ("meetings", "view_opportunityevent"),
    ("meetings", "view_rescheduleattempt"), ("meetings", "view_meetingnotification"),
]

# Routing: SDRs file returns and claim queued leads; managers review their team's returns.
ROLE_PERMISSIONS[SDR] += [
    ("routing", "add_returnrequest"), ("routing", "view_returnrequest"),
    ("routing", "view_queueitem"), ("routing", "view_routingdecision"),
]
ROLE_PERMISSIONS[MANAGER] += [
    ("routing", "view_returnrequest"), ("routing", "change_returnrequest"), ("routing", "view_routingdecision"),
]

# Campaigns (issue 19): company records everyone reads; only ops add, edit and cost them.
for _role in (MANAGER, SDR, AE):
    ROLE_PERMISSIONS[_role] += [("campaigns", "view_campaign")]
ROLE_PERMISSIONS[MANAGER] += [("campaigns", "view_campaigninteraction"), ("campaigns", "view_offerslapolicy"),
                              ("campaigns", "view_nurtureprogram"), ("campaigns", "view_nurtureentry"),
                              ("campaigns", "view_alarm"), ("campaigns", "change_alarm")]
ROLE_PERMISSIONS[SDR] += [("campaigns", "view_campaigninteraction")]

ROLE_GROUP = {"ops": OPS, "manager": MANAGER, "sdr": SDR, "ae": AE}


def sync_role_groups(apps=None) -> None:
    """Create the role groups and (re)set their permissions; usable from a migration."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = []
        for app_label, codename in grants:
            qs = Permission.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                qs = qs.filter(codename=codename)
            perms.extend(qs)
        group.permissions.set(perms)


# Lead lifecycle and cadences: reps read their cycles and cadences; the lead page
# and the today list are admin views that check row scope themselves.
ROLE_PERMISSIONS[MANAGER] += [
    ("leads", "view_leadcycle"), ("leads", "view_slabreach"), ("leads", "view_dispositionreason"),
    ("leads", "view_slapolicy"), ("cadences", "view_cadence"), ("cadences", "view_cadencestep"),
    ("cadences", "view_enrolment"),
    # Managers mark lead cycles exceptions (apps.leads.rules.may_mark_exception) from this list.
    ("leads", "view_exceptionreason"), ("leads", "view_teamactivitygoals"),
]
ROLE_PERMISSIONS[SDR] += [
    ("leads", "view_leadcycle"), ("cadences", "view_cadence"), ("cadences", "view_cadencestep"),
    ("cadences", "view_enrolment"),
]
# Follow-up tasks (issue 22): logged and completed on the lead page / API by reps; the admin
# list is read-only for everyone (rows scoped in sdrops.access.follow_ups_visible_to).
for _role in (MANAGER, SDR, AE):
    ROLE_PERMISSIONS[_role] += [("cadences", "view_followuptask"), ("cadences", "add_followuptask"),
                                ("cadences", "change_followuptask")]

# Targets (issue 18): managers set their SDRs' monthly targets (row scope in the admin); SDRs
# read their own.
ROLE_PERMISSIONS[MANAGER] += [
    ("reporting", "view_reptarget"), ("reporting", "add_reptarget"), ("reporting", "change_reptarget"),
    ("reporting", "view_segmenttarget"),
]
ROLE_PERMISSIONS[SDR] += [("reporting", "view_reptarget"), ("reporting", "view_segmenttarget")]

# ICPs and scoring: reps read the rules behind a score and log signals and research
# on their own accounts (row scope comes from the account they hang off); only ops edit ICPs.
ROLE_PERMISSIONS[MANAGER] += [
    ("icps", "view_icp"), ("icps", "view_rule"), ("icps", "view_signal"), ("icps", "add_signal"),
    ("icps", "view_scorehistory"), ("icps", "view_researchitem"), ("icps", "add_researchitem"),
]
ROLE_PERMISSIONS[SDR] += [
    ("icps", "view_icp"), ("icps", "view_rule"), ("icps", "view_signal"), ("icps", "add_signal"),
    ("icps", "view_scorehistory"), ("icps", "view_researchitem"), ("icps", "add_researchitem"),
]
ROLE_PERMISSIONS[AE] += [
    ("icps", "view_icp"), ("icps", "view_signal"), ("icps", "view_scorehistory"), ("icps", "view_researchitem"),
]

# Market segments and coverage (issue 22): reps and managers read the rules behind an
# account's segment and what "covered" and "engaged" mean; only ops edit, override and run plays.
for _role in (MANAGER, SDR):
    ROLE_PERMISSIONS[_role] += [("markets", "view_marketsegmentrule"), ("markets", "view_coveragesettings")]
