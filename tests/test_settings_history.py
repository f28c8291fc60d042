"""Settings models: one singleton base (pk 1, load()) and a change history kept by
database triggers for every write path."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from apps.campaigns.models import AlarmSettings
from apps.connect.models import CalendarSettings
from apps.icps.models import ScoringSettings
from apps.leads.models import LifecycleSettings, SlaPolicy
from apps.markets.models import CoverageSettings, MarketSegmentRule
from apps.meetings.models import MeetingSettings
from apps.reporting.models import FunnelTargets
from apps.routing.models import RulesOfEngagement
from sdrops.models import EVENT_MODELS
from sdrops.settings_admin import SingletonSettingsAdminMixin
from sdrops.singleton import SingletonSettings

SINGLETONS = [ScoringSettings, FunnelTargets, RulesOfEngagement, MeetingSettings, LifecycleSettings, AlarmSettings,
              CoverageSettings]


def test_every_settings_singleton_shares_the_base():
    singletons = [m for m in apps.get_models() if issubclass(m, SingletonSettings)]
    assert sorted(m.__name__ for m in singletons) == sorted(m.__name__ for m in SINGLETONS)
    # Market segment rules are ordered rows, not a singleton, and keep their history too.
    assert set(EVENT_MODELS) == {*SINGLETONS, SlaPolicy, MarketSegmentRule}


@pytest.mark.django_db
@pytest.mark.parametrize("model", SINGLETONS, ids=lambda m: m.__name__)
def test_load_returns_the_saved_row_pk_1(model):
    model.objects.all().delete()
    row = model.load()
    assert row.pk == 1 and not row._state.adding
    assert model.objects.filter(pk=1).exists()
    assert model.load().pk == 1 and model.objects.count() == 1


@pytest.mark.django_db
def test_a_second_settings_row_is_refused_by_the_database():
    from django.db import IntegrityError, transaction

    FunnelTargets.load()
    with pytest.raises(IntegrityError), transaction.atomic():
        FunnelTargets.objects.bulk_create([FunnelTargets(pk=2)])


# A field of each model and two new values inside its constraints.
CHANGES = {
    ScoringSettings: ("fit_threshold", 20, 21),
    FunnelTargets: ("mql_sql_target", 30, 31),
    RulesOfEngagement: ("rest_days", 20, 21),
    MeetingSettings: ("reschedule_touches", 6, 7),
    LifecycleSettings: ("morning_email_hour", 8, 9),
    AlarmSettings: ("cherry_pick_count", 6, 7),
    CoverageSettings: ("min_contacts", 4, 5),
}


@pytest.mark.django_db
@pytest.mark.parametrize("model", SINGLETONS, ids=lambda m: m.__name__)
def test_every_write_path_leaves_history(model):
    field, bulk_value, raw_value = CHANGES[model]
    events = EVENT_MODELS[model]
    model.load()
    events.objects.all().delete()
    model.objects.filter(pk=1).update(**{field: bulk_value})  # a bulk update: no save(), no signals
    with connection.cursor() as cursor:  # raw SQL
        cursor.execute(f"UPDATE {model._meta.db_table} SET {field} = %s WHERE id = 1", [raw_value])
    model.objects.filter(pk=1).update(**{field: raw_value})  # no change, no event
    history = list(events.objects.order_by("pgh_id").values_list("pgh_label", field))
    assert [(label, int(value)) for label, value in history] == [("update", bulk_value), ("update", raw_value)]
    assert set(events.objects.values_list("id", flat=True)) == {1}


@pytest.mark.django_db
def test_history_keeps_the_old_and_new_values_of_an_sla_policy():
    events = EVENT_MODELS[SlaPolicy]
    policy = SlaPolicy.objects.create(name="Test inbound", lead_type="inbound", source="", target_minutes=60,
                                      maximum_minutes=600, active=False)
    policy_id = policy.pk
    SlaPolicy.objects.filter(pk=policy_id).update(target_minutes=30)
    policy.delete()
    history = list(events.objects.filter(id=policy_id).order_by("pgh_id").values_list("pgh_label", "target_minutes"))
    assert history == [("insert", 60), ("update", 30), ("delete", 30)]


@pytest.mark.django_db
def test_an_admin_edit_is_recorded_with_who_made_it(admin_client, admin_user):
    events = EVENT_MODELS[LifecycleSettings]
    LifecycleSettings.load()
    events.objects.all().delete()
    response = admin_client.post(
        "/admin/leads/lifecyclesettings/1/change/",
        {"auto_abandon_working_days": 30, "auto_abandon_idle_days": 7, "morning_email_hour": 9},
    )
    assert response.status_code == 302, response.content
    (event,) = events.objects.all()
    assert event.morning_email_hour == 9 and event.pgh_label == "update"
    assert event.pgh_context.metadata["user"] == admin_user.pk


@pytest.mark.django_db
def test_an_alarm_settings_admin_edit_is_recorded_with_who_made_it(admin_client, admin_user):
    events = EVENT_MODELS[AlarmSettings]
    AlarmSettings.objects.all().delete()
    assert admin_client.get("/admin/campaigns/alarmsettings/").url == "/admin/campaigns/alarmsettings/1/change/"
    events.objects.all().delete()
    response = admin_client.post("/admin/campaigns/alarmsettings/1/change/", {
        "cherry_pick_count": 4, "cherry_pick_hours": 24, "sao_dark_days": 10, "sao_dark_calls": 3,
        "sao_dark_emails": 3, "iqm_pending_days": 7, "rename_count": 2, "rename_days": 90,
        "close_push_count": 2, "close_push_days": 180,
    })
    assert response.status_code == 302, response.content
    (event,) = events.objects.all()
    assert (event.cherry_pick_count, event.sao_dark_days, event.pgh_label) == (4, 10, "update")
    assert event.pgh_context.metadata["user"] == admin_user.pk
    assert AlarmSettings.load().sao_dark_days == 10


@pytest.mark.django_db
@pytest.mark.parametrize("model", [*SINGLETONS, CalendarSettings], ids=lambda m: m.__name__)
def test_a_settings_page_opens_its_one_row_and_offers_no_add_or_delete(admin_client, model):
    """Every settings admin shares SingletonSettingsAdminMixin: the list opens the row (created with
    the defaults if a flushed database lost it), and there is nothing to add or delete."""
    model.objects.all().delete()
    opts = model._meta
    response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[1])
    assert admin_client.get(response["Location"]).status_code == 200
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[1])).status_code == 403
    assert isinstance(admin.site._registry[model], SingletonSettingsAdminMixin)
