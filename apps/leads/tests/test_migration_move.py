"""The upgrade from the schema before apps.leads existed: rows written while the lead models
still belonged to apps.people are read through apps.leads' models after migrating, with no
table copied, and permissions (content types) follow the models so groups keep them."""

from __future__ import annotations

import datetime as dt

import pgtrigger
import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# Replays every migration from before the move (40-50 s): a whole-database test, run by
# `make test-system` with the other multi-process ones.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.system]

# The last migration of each app before the move.
BEFORE_MOVE = [
    ("people", "0007_personal_data_requests"),
    ("cadences", "0002_default_cadences_and_schedules"),
    ("meetings", "0002_stages_settings_schedules_roles"),
    ("leads", None),
]
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_rows_written_before_the_move_are_read_through_apps_leads():
    executor = _migrate(BEFORE_MOVE)
    # The history triggers are installed after `migrate` from today's models (pgtrigger), so
    # they name columns added since the move (SlaPolicy.on_leave); the old schema had none.
    pgtrigger.uninstall()
    try:
        old = executor.loader.project_state([t for t in BEFORE_MOVE if t[1]]).apps
        with pytest.raises(LookupError):
            old.get_model("leads", "LeadCycle")
        ids = _write_rows_before_the_move(old)
    finally:
        _migrate(_latest())
        pgtrigger.install()
    ContentType.objects.clear_cache()
    _assert_rows_read_through_leads(ids)


def _write_rows_before_the_move(old) -> dict:
    OldUser = old.get_model("auth", "User")
    OldGroup = old.get_model("auth", "Group")
    OldPermission = old.get_model("auth", "Permission")
    OldContentType = old.get_model("contenttypes", "ContentType")
    Team = old.get_model("people", "Team")
    Rep = old.get_model("people", "Rep")
    Contact = old.get_model("people", "Contact")
    Reason = old.get_model("people", "DispositionReason")
    Policy = old.get_model("people", "SlaPolicy")
    Cycle = old.get_model("people", "LeadCycle")
    Event = old.get_model("people", "LeadCycleEvent")
    Breach = old.get_model("people", "SlaBreach")
    PullRange = old.get_model("people", "TeamPullRange")
    MorningEmail = old.get_model("people", "MorningEmail")
    Settings = old.get_model("people", "LifecycleSettings")
    Cadence = old.get_model("cadences", "Cadence")
    Enrolment = old.get_model("cadences", "Enrolment")

    user = OldUser.objects.create(username="upgrade-rep", email="upgrade-rep@example.com")
    team = Team.objects.create(name="Upgrade team")
    rep = Rep.objects.create(user=user, owner_name="Upgrade Rep", role="sdr", team=team)
    contact = Contact.objects.create(email="lead-before-move@example.com", first_name="Ada")
    reason = Reason.objects.create(disposition="nurture", label="Budget frozen until the merger closes")
    policy = Policy.objects.create(name="Upgrade policy", lead_type="target_account", target_minutes=30,
                                   maximum_minutes=60)
    cycle = Cycle.objects.create(
        contact=contact, number=1, lead_type="target_account", rep=rep, assigned_at=T0, sla_policy=policy,
        sla_target_at=T0 + dt.timedelta(minutes=30), sla_maximum_at=T0 + dt.timedelta(minutes=60),
    )
    old_cycle = Cycle.objects.create(
        contact=Contact.objects.create(email="nurtured-before-move@example.com"), number=1, rep=rep,
        assigned_at=T0, state="dispositioned", dispositioned_at=T0 + dt.timedelta(days=1), disposition="nurture",
        reason=reason, disposition_reason=reason.label,
    )
    Event.objects.create(cycle=cycle, kind="assigned", to_state="assigned", to_rep=rep, occurred_at=T0)
    Breach.objects.create(cycle=cycle, kind="target", rep=rep, assigned_at=T0, due_at=cycle.sla_target_at,
                          breached_at=T0 + dt.timedelta(minutes=31))
    PullRange.objects.create(team=team, minimum=4, maximum=9)
    MorningEmail.objects.create(manager=rep, local_date=T0.date(), items=3)
    Settings.objects.update_or_create(pk=1, defaults={"auto_abandon_working_days": 21})
    enrolment = Enrolment.objects.create(contact=contact, cadence=Cadence.objects.order_by("pk").first(), rep=rep,
                                         lead_cycle=cycle, enrolled_at=T0)
    content_type = OldContentType.objects.get(app_label="people", model="leadcycle")
    group = OldGroup.objects.create(name="Upgrade readers")
    group.permissions.add(OldPermission.objects.get(content_type=content_type, codename="view_leadcycle"))
    reader = OldUser.objects.create(username="upgrade-reader", is_staff=True)
    reader.groups.add(group)
    return {"cycle": cycle.pk, "old_cycle": old_cycle.pk, "reason": reason.pk, "policy": policy.pk, "rep": rep.pk,
            "team": team.pk, "enrolment": enrolment.pk, "content_type": content_type.pk, "reader": reader.pk}


def _assert_rows_read_through_leads(ids: dict) -> None:
    from apps.cadences.models import Enrolment
    from apps.leads.models import (
        DispositionReason,
        LeadCycle,
        LifecycleSettings,
        MorningEmail,
        SlaBreach,
        TeamPullRange,
    )

    cycle = LeadCycle.objects.select_related("sla_policy", "rep", "contact").get(pk=ids["cycle"])
    assert (cycle.contact.email, cycle.rep.owner_name, cycle.state) == ("lead-before-move@example.com",
                                                                          "Upgrade Rep", "assigned")
    assert cycle.sla_policy.name == "Upgrade policy"
    assert list(cycle.events.values_list("kind", flat=True)) == ["assigned"]
    assert list(cycle.sla_breaches.values_list("kind", flat=True)) == ["target"]
    assert cycle in LeadCycle.objects.open()
    nurtured = LeadCycle.objects.get(pk=ids["old_cycle"])
    assert nurtured.reason == DispositionReason.objects.get(pk=ids["reason"])
    assert nurtured not in LeadCycle.objects.open()
    assert SlaBreach.objects.get(cycle=cycle).rep_id == ids["rep"]
    assert TeamPullRange.objects.get(team_id=ids["team"]).maximum == 9
    assert MorningEmail.objects.get(manager_id=ids["rep"]).items == 3
    assert LifecycleSettings.load().auto_abandon_working_days == 21
    assert Enrolment.objects.get(pk=ids["enrolment"]).lead_cycle == cycle

    # The same content type row now says "leads": the group's permission came along.
    content_type = ContentType.objects.get_for_model(LeadCycle)
    assert (content_type.pk, content_type.app_label) == (ids["content_type"], "leads")
    assert not ContentType.objects.filter(app_label="people", model__in=["leadcycle", "slapolicy", "slabreach"]).exists()
    group = Group.objects.get(name="Upgrade readers")
    assert list(group.permissions.values_list("content_type__app_label", "codename")) == [("leads", "view_leadcycle")]
    assert User.objects.get(pk=ids["reader"]).has_perm("leads.view_leadcycle")
    # The role groups were re-synced with the moved permissions.
    assert Group.objects.get(name="Manager").permissions.filter(
        content_type__app_label="leads", codename="view_slabreach").exists()
