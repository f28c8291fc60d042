"""The meetings panel on the admin index: the first thing an AE sees is what to disposition."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone

from apps.meetings import selectors
from apps.meetings.models import RescheduleAttempt
from apps.people.models import Rep
from sdrops.access import rep_for_user, scoped_rep_ids, user_sees_everything

register = template.Library()

LIMIT = 15


@register.inclusion_tag("admin/meetings/panel.html", takes_context=True)
def meetings_panel(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    now = timezone.now()
    if user is None or not user.has_perm("meetings.view_meeting"):
        return {"panel": None}
    changelist = reverse("admin:meetings_meeting_changelist")
    rep = rep_for_user(user)
    if rep is not None and rep.role == Rep.Role.AE:
        meetings = selectors.meetings_to_disposition(ae=rep, now=now)
        panel = {"title": "My meetings to disposition", "empty": "Nothing to disposition.",
                 "more_url": f"{changelist}?queue=to_disposition", "can_disposition": True}
    elif rep is not None and rep.role == Rep.Role.SDR:
        meetings = selectors.meetings_overdue(now=now).filter(sdr=rep)
        panel = {
            "title": "My meetings awaiting the AE's disposition", "empty": "No overdue dispositions.", "show_ae": True,
            "reschedules": list(
                RescheduleAttempt.objects.filter(sdr=rep, state=RescheduleAttempt.State.OPEN)
                .select_related("contact", "meeting").order_by("due_by")[:LIMIT]
            ),
            "more_url": f"{changelist}?queue=overdue",
        }
    else:
        rep_ids = None if user_sees_everything(user) else scoped_rep_ids(user=user)
        meetings = selectors.meetings_overdue(rep_ids=rep_ids, now=now)
        title = "Overdue meeting dispositions" + ("" if rep_ids is None else " in my team")
        panel = {"title": title, "empty": "No overdue dispositions.", "show_ae": True,
                 "more_url": f"{changelist}?queue=overdue", "can_disposition": True}
    panel["count"] = meetings.count()
    panel["meetings"] = list(meetings[:LIMIT])
    if panel["count"] <= LIMIT:
        panel["more_url"] = ""
    return {"panel": panel, "request": request, "now": now}
