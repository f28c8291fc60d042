from __future__ import annotations

import io

import pytest

from apps.accounts.csv_safety import csv_writer
from apps.accounts.imports.exports import contact_export_rows, rep_export_rows
from apps.accounts.imports.services import import_run
from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory
from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files and rejects go to a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"

CONTACTS = "first_name,last_name,email,title,persona,buying_role,source,account_domain\n"
REPS = "owner_name,email,role,team,manager,capacity,weight,ramp_start\n"


def run(kind, text, **kwargs):
    return import_run(kind=kind, data=text.encode("utf-8"), **kwargs)


def export(rows) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def test_contacts_join_accounts_by_matching_key_alias_or_account_domain():
    acme = AccountFactory(domain="acme.com")
    xbox = AccountFactory(domain="microsoft.com")
    DomainAliasFactory(account=xbox, domain="xbox.com")
    outcome = run("contacts", CONTACTS + "\n".join([
        "Ann,Lee,Ann.Lee@EU.Acme.com,CTO,Tech,Decision maker,inbound,",
        "Bo,Kim,bo@xbox.com,,,champion,event,",
        "Cy,Ng,cy@gmail.com,,,,,www.acme.com",
        "Di,Oz,di@unknown-co.com,,,,,",
    ]) + "\n")
    assert (outcome.refused, outcome.new) == (False, 4)
    ann = Contact.objects.get(email="ann.lee@eu.acme.com")
    assert (ann.account, ann.buying_role, ann.source) == (acme, "decision_maker", "inbound")
    assert Contact.objects.get(email="bo@xbox.com").account == xbox
    assert Contact.objects.get(email="cy@gmail.com").account == acme
    assert Contact.objects.get(email="di@unknown-co.com").account is None
    assert "1 contact(s) matched no account" in outcome.warnings[0]


def test_contact_row_errors():
    ContactFactory(email="taken@acme.com")
    outcome = run("contacts", CONTACTS + "\n".join([
        "A,B,not-an-email,,,,,",
        "A,B,,,,,,",
        "A,B,me@gmail.com,,,,,",
        "A,B,x@acme.com,,,boss,,",
        "A,B,y@acme.com,,,,radio,",
        "A,B,z@acme.com,,,,,nowhere.com",
        "A,B,X@acme.com,,,,,",
    ]) + "\n")
    assert outcome.refused
    by_line = {e.line: (e.column, e.value, e.message) for e in outcome.errors}
    assert by_line[2] == ("email", "not-an-email", "expected an email address like jane@example.com")
    assert by_line[3] == ("email", "", "an email address is required")
    assert by_line[4] == ("email", "me@gmail.com", "gmail.com is a webmail address, so it cannot pick the account; give account_domain")
    assert by_line[5] == ("buying_role", "boss", "unknown buying role; expected one of: Decision maker, Champion, Influencer, User, Blocker, Other")
    assert by_line[6] == ("source", "radio", "unknown source; expected one of: Inbound, Outbound, Event, Partner")
    assert by_line[7] == ("account_domain", "nowhere.com", "no account has the domain nowhere.com (as its domain or an alias); import the account first")
    assert by_line[8] == ("email", "X@acme.com", "x@acme.com appears twice in the file; it is already on line 5")
    assert Contact.objects.count() == 1


def test_contacts_round_trip_and_idempotent():
    AccountFactory(domain="acme.com")
    text = CONTACTS + "Ann,Lee,ann@acme.com,=cmd(),Tech,influencer,partner,\n"
    assert run("contacts", text).new == 1
    again = run("contacts", text)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    exported = export(contact_export_rows(Contact.objects.all()))
    assert "'=cmd()" in exported and "acme.com" in exported
    back = run("contacts", exported)
    assert (back.new, back.updated, back.unchanged, back.rejected) == (0, 0, 1, 0)
    assert Contact.objects.get().title == "=cmd()"


def test_reps_create_users_groups_managers_and_round_trip(team):
    text = REPS + "\n".join([
        "Mia  Boss,mia@example.com,Manager,North,,10,1,",
        "Ned Seller,ned@example.com,SDR,North,mia boss,120,1.5,2026-01-15",
    ]) + "\n"
    outcome = run("reps", text)
    assert (outcome.refused, outcome.new, outcome.updated) == (False, 2, 0)
    ned = Rep.objects.get(owner_name="Ned Seller")
    assert (ned.manager.owner_name, ned.team.name, ned.capacity, str(ned.routing_weight), str(ned.ramp_start)) == (
        "Mia Boss", "North", 120, "1.50", "2026-01-15")
    assert ned.user.email == "ned@example.com" and ned.user.groups.filter(name="SDR").exists()
    assert not ned.user.has_usable_password()
    again = run("reps", text)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    exported = export(rep_export_rows(Rep.objects.all()))
    back = run("reps", exported)
    assert (back.new, back.updated, back.rejected) == (0, 0, 0)
    changed = run("reps", REPS + "ned seller,ned@example.com,AE,North,,120,1.5,2026-01-15\n")
    assert changed.updated == 1
    ned.refresh_from_db()
    assert ned.role == "ae" and ned.manager is None
    assert list(ned.user.groups.values_list("name", flat=True)) == ["AE"]


def test_rep_row_errors(sdr):
    outcome = run("reps", REPS + "\n".join([
        "Zed,zed@example.com,Wizard,,,,,",
        "Yan,,SDR,,Sam Selr,,,",
        "Xi,,SDR,,,-1,,",
        "Wu,,SDR,,,,,15/01/2026",
        "zed,,,,,,,",
    ]) + "\n")
    assert outcome.refused and not Rep.objects.filter(owner_name__in=["Zed", "Yan", "Xi", "Wu"]).exists()
    by_line = {e.line: (e.column, e.value, e.message) for e in outcome.errors}
    assert by_line[2] == ("role", "Wizard", "unknown role; expected one of: SDR, AE, Manager, Ops admin")
    assert by_line[3][:2] == ("manager", "Sam Selr") and by_line[3][2].startswith("no rep has this owner name; closest owner names: Sam Seller")
    assert by_line[4] == ("capacity", "-1", "expected a non-negative whole number (like 250 or 1,200)")
    assert by_line[5] == ("ramp_start", "15/01/2026", "expected a date as YYYY-MM-DD (like 2026-01-15)")
    assert by_line[6] == ("owner_name", "zed", "zed appears twice in the file; it is already on line 2")
