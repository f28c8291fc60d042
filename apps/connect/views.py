"""Calendar downloads: a meeting's .ics (signed-in users who may see the meeting) and the
personal feed (anyone holding the secret URL — that is what calendar clients can do)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from apps.connect.calendar import calendar_feed_for_token, calendar_feed_ics, latest_in_chain, meeting_ics
from apps.meetings.selectors import meetings_visible_to


def _ics_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_member_required
def meeting_ics_view(request, meeting_id: int):
    meeting = get_object_or_404(
        meetings_visible_to(user=request.user).select_related("contact", "account", "ae__user", "sdr__user"),
        pk=meeting_id,
    )
    meeting = latest_in_chain(meeting)
    method = "CANCEL" if meeting.status == meeting.Status.CANCELLED else "PUBLISH"
    return _ics_response(meeting_ics(meeting, method=method), f"meeting-{meeting.pk}.ics")


@require_GET
def calendar_feed_view(request, token: str):
    feed = calendar_feed_for_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    response = HttpResponse(calendar_feed_ics(feed=feed), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    # The secret is in the path: keep it out of any Referer a calendar client might send on.
    response["Referrer-Policy"] = "no-referrer"
    return response
