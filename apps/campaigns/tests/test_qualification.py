"""Sales-ready criteria captured when a lead is qualified (apps/campaigns/qualification.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import Activity, ActivityType
from apps.campaigns.models import QualificationCheck, QualificationCriterion
from apps.campaigns.qualification import lead_disposition_with_criteria
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory


def _qualifiable(sdr):
    contact = ContactFactory()
    cycle = lead_cycle_open(contact=contact, rep=sdr)
    # Evidence for the existing rule: a logged meeting from another tool.
    Activity.objects.create(type=ActivityType.MEETING, contact=contact, account=contact.account, rep=sdr)
    return contact, cycle


@pytest.mark.django_db
def test_defaults_are_the_marketo_criteria_and_required_ones_refuse_or_take_a_managers_override(sdr, manager):
    assert list(QualificationCriterion.objects.values_list("code", flat=True)) == [
        "company_fit", "access_to_power", "pain", "timing"]
    QualificationCriterion.objects.filter(code__in=["company_fit", "pain"]).update(required=True)
    _contact, cycle = _qualifiable(sdr)
    with pytest.raises(ValidationError, match="Qualified needs these criteria met: Pain"):
        lead_disposition_with_criteria(cycle=cycle, disposition="qualified", actor=sdr.user, criteria_met=["company_fit"])
    cycle.refresh_from_db()
    assert cycle.state != "dispositioned" and not QualificationCheck.objects.exists()  # nothing half-done
    with pytest.raises(ValidationError, match="Only a manager or ops can qualify without: Pain"):
        lead_disposition_with_criteria(cycle=cycle, disposition="qualified", actor=sdr.user, override=True,
                                       criteria_met=["company_fit"])
    with pytest.raises(ValidationError, match="Unknown qualification criteria: budget"):
        lead_disposition_with_criteria(cycle=cycle, disposition="qualified", actor=sdr.user, criteria_met=["budget"])
    lead_disposition_with_criteria(cycle=cycle, disposition="qualified", actor=manager.user, override=True,
                                   criteria_met=["company_fit", "timing"])
    checks = {c.criterion.code: (c.met, c.overridden_by_id) for c in cycle.qualification_checks.select_related("criterion")}
    assert checks == {"company_fit": (True, None), "access_to_power": (False, None), "pain": (False, manager.user.pk),
                      "timing": (True, None)}


@pytest.mark.django_db
def test_the_lead_page_captures_and_shows_the_criteria(client, sdr, ops):
    contact, cycle = _qualifiable(sdr)
    client.force_login(sdr.user)
    url = reverse("admin:cadences_lead_page", args=[contact.pk])
    assert "Sales-ready criteria met" in client.get(url).content.decode()
    response = client.post(url, {"action": "disposition", "disposition-disposition": "qualified",
                                 "disposition-criteria_met": ["company_fit", "pain"]})
    assert response.status_code == 302
    client.force_login(ops.user)  # the SDR's lead work lists open leads only
    page = client.get(url).content.decode()
    assert "Lead dispositioned: Qualified." in page
    assert "✓ Company fit" in page and "✗ Access to power" in page and "✓ Pain" in page and "✗ Timing" in page
    assert QualificationCheck.objects.filter(cycle=cycle, met=True).count() == 2
