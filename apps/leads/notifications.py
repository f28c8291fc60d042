"""Emails about leads: rendered from templates as text and HTML and queued in the one mail
outbox (sdrops.mail: sent after commit, retried, dead-lettered; console/file in the demo,
SMTP when configured). They take ids and re-read, like tasks."""

from __future__ import annotations

import logging

from django.urls import NoReverseMatch, reverse

from apps.leads.models import SlaBreach
from apps.people.selectors import manager_of
from apps.people.timezones import rep_zone
from sdrops import mail

logger = logging.getLogger(__name__)


portal_url = mail.portal_url


def contact_url(contact_id: int) -> str:
    """Where a manager or rep acts on a lead: the lead page of the contact."""
    try:
        return portal_url(reverse("admin:cadences_lead_page", args=[contact_id]))
    except NoReverseMatch:
        return portal_url(f"/admin/people/contact/{contact_id}/change/")


def send_templated(*, to: list[str], template: str, context: dict) -> int:
    """One lead mail (leads/email/<template>) through the one email module's outbox: a mail
    server that is down delays it (retried), it never fails the job."""
    return mail.send_templated(to=to, template=f"leads/email/{template}", context=context)


def _breach(breach_id: int):
    return (
        SlaBreach.objects.select_related("cycle__contact__account", "rep__user", "rep__team__manager__user",
                                         "rep__manager__user", "reassigned_to__user", "cycle__sla_policy")
        .filter(pk=breach_id)
        .first()
    )


def sla_reminder(*, breach_id: int) -> int:
    breach = _breach(breach_id)
    if breach is None or breach.rep is None:
        return 0
    context = {"breach": breach, "cycle": breach.cycle, "contact": breach.cycle.contact,
               "link": contact_url(breach.cycle.contact_id), "tz": rep_zone(breach.rep)}
    return send_templated(to=[breach.rep.user.email], template="sla_reminder", context=context)


def sla_escalation(*, breach_id: int) -> int:
    breach = _breach(breach_id)
    if breach is None:
        return 0
    manager = manager_of(breach.rep)
    context = {"breach": breach, "cycle": breach.cycle, "contact": breach.cycle.contact,
               "link": contact_url(breach.cycle.contact_id), "new_rep": breach.reassigned_to}
    sent = 0
    if manager is not None:
        sent += send_templated(to=[manager.user.email], template="sla_escalation", context={**context, "tz": rep_zone(manager)})
    else:
        logger.warning("SLA breach %s: rep %s has no manager to notify", breach.pk, breach.rep)
    if breach.reassigned_to is not None:
        sent += send_templated(to=[breach.reassigned_to.user.email], template="lead_reassigned",
                               context={**context, "tz": rep_zone(breach.reassigned_to)})
    return sent
