"""Sales-ready criteria through the API and the meeting disposition (issue 19 item 4): every
entry point calls apps.campaigns.qualification, so the lead page's required / manager-override
rule holds the same way everywhere."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Activity, ActivityType
from apps.campaigns.models import QualificationCheck, QualificationCriterion
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory
from apps.reporting.tests.conftest import make_meeting

pytestmark = pytest.mark.django_db


def _checks(**where):
    return {c.criterion.code: (c.met, c.overridden_by_id)
            for c in QualificationCheck.objects.filter(**where).select_related("criterion")}


def _cycle_with_evidence(sdr):
    contact = ContactFactory()
    cycle = lead_cycle_open(contact=contact, rep=sdr)
    Activity.objects.create(type=ActivityType.MEETING, contact=contact, account=contact.account, rep=sdr)
    return cycle


def test_lead_disposition_api_takes_the_criteria_with_the_lead_pages_rule(make_client, sdr, manager):
    QualificationCriterion.objects.filter(code="pain").update(required=True)
    sdr_api, _ = make_client(sdr)
    cycle = _cycle_with_evidence(sdr)
    url = f"/api/lead-cycles/{cycle.pk}/disposition/"
    refused = sdr_api.post(url, {"disposition": "qualified", "criteria_met": ["company_fit"]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["criteria_met"] == ["Qualified needs these criteria met: Pain (or a manager's override)."]
    # Leaving the field out does not step around a required criterion.
    silent = sdr_api.post(url, {"disposition": "qualified"}, format="json")
    assert silent.status_code == 400 and "Pain" in silent.json()["errors"]["criteria_met"][0]
    sdr_override = sdr_api.post(url, {"disposition": "qualified", "criteria_met": [], "override": True}, format="json")
    assert sdr_override.json()["errors"]["criteria_met"] == ["Only a manager or ops can qualify without: Pain."]
    unknown = sdr_api.post(url, {"disposition": "qualified", "criteria_met": ["budget"]}, format="json")
    assert "Unknown qualification criteria: budget" in unknown.json()["errors"]["criteria_met"][0]
    cycle.refresh_from_db()
    assert cycle.state != "dispositioned" and not QualificationCheck.objects.exists()

    manager_api, _ = make_client(manager)
    done = manager_api.post(url, {"disposition": "qualified", "criteria_met": ["company_fit", "timing"], "override": True},
                            format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["disposition"] == "qualified"
    assert _checks(cycle=cycle) == {"company_fit": (True, None), "access_to_power": (False, None),
                                    "pain": (False, manager.user.pk), "timing": (True, None)}

    # No required criterion and no field: recorded as before — nothing (unknown is not "not met").
    QualificationCriterion.objects.update(required=False)
    other = _cycle_with_evidence(sdr)
    assert sdr_api.post(f"/api/lead-cycles/{other.pk}/disposition/", {"disposition": "qualified"},
                        format="json").status_code == 200
    assert not QualificationCheck.objects.filter(cycle=other).exists()

    listed = sdr_api.get("/api/qualification-criteria/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["code"] for r in rows] == ["company_fit", "access_to_power", "pain", "timing"]


def test_meeting_disposition_api_and_form_record_the_criteria_on_the_meeting_and_the_cycle(make_client, client, sdr, ae,
                                                                                          manager):
    QualificationCriterion.objects.filter(code="access_to_power").update(required=True)
    past = timezone.now() - dt.timedelta(hours=2)
    cycle = lead_cycle_open(contact=ContactFactory(), rep=sdr)
    meeting = make_meeting(sdr=sdr, ae=ae, scheduled_at=past, cycle=cycle)
    ae_api, _ = make_client(ae)
    url = f"/api/meetings/{meeting.pk}/disposition/"
    refused = ae_api.post(url, {"outcome": "completed_qualified", "criteria_met": ["pain"]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["criteria_met"] == [
        "Qualified needs these criteria met: Access to power (or a manager's override)."]
    meeting.refresh_from_db()
    assert meeting.status == "scheduled"                                    # nothing half-done
    done = ae_api.post(url, {"outcome": "completed_qualified", "criteria_met": ["pain", "access_to_power"]}, format="json")
    assert done.status_code == 200, done.json()
    expected = {"company_fit": (False, None), "access_to_power": (True, None), "pain": (True, None), "timing": (False, None)}
    # The meeting qualified the open cycle: the checks are the cycle's as well.
    assert _checks(meeting=meeting) == expected and _checks(cycle=cycle) == expected
    assert LeadCycle.objects.get(pk=cycle.pk).disposition == "qualified"
    client.force_login(manager.user)
    page = client.get(reverse("admin:meetings_meeting_change", args=[meeting.pk])).content.decode()
    assert "Sales-ready criteria" in page and "✓ Pain" in page and "✗ Company fit" in page

    # The admin form: a manager's override, on a meeting whose cycle was qualified before (the
    # cycle keeps its own checks; these are the meeting's).
    second = make_meeting(sdr=sdr, ae=ae, scheduled_at=past, cycle=cycle)
    form_url = reverse("admin:meetings_meeting_disposition", args=[second.pk])
    form = client.get(form_url).content.decode()
    assert "Sales-ready criteria met" in form and "Access to power (required)" in form
    response = client.post(form_url, {"outcome": "completed_qualified", "criteria_met": ["company_fit"], "override": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _checks(meeting=second) == {"company_fit": (True, None), "access_to_power": (False, manager.user.pk),
                                       "pain": (False, None), "timing": (False, None)}
    assert _checks(cycle=cycle) == expected
    assert set(QualificationCheck.objects.filter(meeting=second).values_list("cycle", flat=True)) == {None}


def test_the_schema_documents_criteria_met(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert schema.count("criteria_met") >= 2 and "/api/qualification-criteria/" in schema
    assert "A required criterion not met refuses the qualification" in schema
