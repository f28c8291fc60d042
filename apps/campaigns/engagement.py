"""The per-person engagement score (issue 19 item 4; the Marketo document's fit / engagement
/ intent per person): how much *the contact* has done lately, next to the account's fit and
readiness, explained like the account score.

What counts is the contact's own behaviour, never the rep's outreach (a rep calling ten times
does not make a person engaged), plus the timing signals recorded on their account:

| what | points | read from |
|---|---|---|
| arrived through a campaign (a demo request, a download, an event…) | 20 | campaign interactions |
| replied to an email | 24 | activities of type email reply |
| held a meeting (Completed – Qualified or – Unqualified) | 30 | meetings |
| has a meeting booked (still scheduled) | 16 | meetings |
| did not show up | −10 | meetings (Not Completed – No Show) |
| a timing signal on their account (pricing visits, funding…) | 10 | signals |

Recency: an event in the last 30 days counts in full, 31-90 days ago half, older not at all
(a booked meeting counts from its scheduled time; one still ahead is "recent"). The score is
the sum, kept within 0-100. One SQL statement gives the per-kind counts of any number of
contacts; the points are those counts times the weights above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from apps.accounts.models import Activity, ActivityType
from apps.campaigns.models import CampaignInteraction
from apps.icps.models import Signal
from apps.meetings.models import Meeting
from apps.people.models import Contact

RECENT_DAYS = 30
OLDER_DAYS = 90
MAX_SCORE = 100

# kind: (label, points in full)
WEIGHTS: dict[str, tuple[str, int]] = {
    "campaign": ("Arrived through a campaign", 20),
    "reply": ("Replied to an email", 24),
    "meeting_held": ("Held a meeting", 30),
    "meeting_booked": ("Has a meeting booked", 16),
    "no_show": ("Did not show up to a meeting", -10),
    "signal": ("Timing signal on the account", 10),
}


@dataclass
class EngagementPart:
    kind: str
    label: str
    recent: int  # events in the last 30 days (full points)
    older: int  # events 31-90 days ago (half points)
    points: int


@dataclass
class Engagement:
    contact_id: int
    score: int = 0
    parts: list[EngagementPart] = field(default_factory=list)


_SQL = f"""
WITH events (contact_id, kind, at) AS (
    SELECT contact_id, 'campaign', occurred_at FROM {CampaignInteraction._meta.db_table}
     WHERE contact_id = ANY(%(ids)s) AND occurred_at > %(horizon)s
    UNION ALL
    SELECT contact_id, 'reply', occurred_at FROM {Activity._meta.db_table}
     WHERE contact_id = ANY(%(ids)s) AND type = %(reply)s AND occurred_at > %(horizon)s
    UNION ALL
    SELECT contact_id,
           CASE WHEN status = ANY(%(held)s) THEN 'meeting_held'
                WHEN status = %(scheduled)s THEN 'meeting_booked' ELSE 'no_show' END,
           LEAST(scheduled_at, %(now)s)
      FROM {Meeting._meta.db_table}
     WHERE contact_id = ANY(%(ids)s) AND status = ANY(%(counted)s) AND scheduled_at > %(horizon)s
    UNION ALL
    SELECT c.id, 'signal', s.occurred_at
      FROM {Contact._meta.db_table} c JOIN {Signal._meta.db_table} s ON s.account_id = c.account_id
     WHERE c.id = ANY(%(ids)s) AND s.occurred_at > %(horizon)s AND s.occurred_at <= %(now)s
)
SELECT contact_id, kind,
       count(*) FILTER (WHERE at > %(recent)s) AS recent,
       count(*) FILTER (WHERE at <= %(recent)s) AS older
  FROM events
 GROUP BY contact_id, kind
"""


def contact_engagement(*, contact_ids: list[int], now: dt.datetime | None = None) -> dict[int, Engagement]:
    """Engagement of each contact (one statement, however many contacts)."""
    now = now or timezone.now()
    result = {pk: Engagement(contact_id=pk) for pk in contact_ids}
    if not contact_ids:
        return result
    params = {
        "ids": list(contact_ids), "now": now, "horizon": now - dt.timedelta(days=OLDER_DAYS),
        "recent": now - dt.timedelta(days=RECENT_DAYS), "reply": ActivityType.EMAIL_REPLY.value,
        "held": [Meeting.Status.COMPLETED_QUALIFIED.value, Meeting.Status.COMPLETED_UNQUALIFIED.value],
        "scheduled": Meeting.Status.SCHEDULED.value,
        "counted": [Meeting.Status.COMPLETED_QUALIFIED.value, Meeting.Status.COMPLETED_UNQUALIFIED.value,
                    Meeting.Status.SCHEDULED.value, Meeting.Status.NO_SHOW.value],
    }
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        rows = cursor.fetchall()
    for contact_id, kind, recent, older in sorted(rows, key=lambda row: (row[0], list(WEIGHTS).index(row[1]))):
        label, weight = WEIGHTS[kind]
        points = recent * weight + older * weight // 2
        result[contact_id].parts.append(EngagementPart(kind=kind, label=label, recent=recent, older=older, points=points))
    for engagement in result.values():
        engagement.score = max(0, min(MAX_SCORE, sum(part.points for part in engagement.parts)))
    return result


def contact_engagement_explain(*, contact: Contact, now: dt.datetime | None = None) -> dict:
    """The lead page's panel: the person's engagement with its parts, and the account's fit and
    readiness (the account score's own columns) beside it."""
    engagement = contact_engagement(contact_ids=[contact.pk], now=now)[contact.pk]
    account = contact.account
    return {
        "engagement": engagement, "weights": [(label, weight) for label, weight in WEIGHTS.values()],
        "recent_days": RECENT_DAYS, "older_days": OLDER_DAYS,
        "fit": account.fit_score if account else None, "readiness": account.readiness_score if account else None,
        "opportunity": getattr(account, "opportunity_score", None) if account else None,
    }
