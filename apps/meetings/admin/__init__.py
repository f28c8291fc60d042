"""Meetings in the admin, by concern: the meeting flow (booking from the contact, disposition,
reschedule, cancel; the contact page's meetings field) in `meetings`, deals and their stages in
`opportunities`, the meetings' settings, reschedule tasks and sent emails in `setup`. Importing
the package imports every module, so every model is registered."""

from apps.meetings.admin import meetings, opportunities, setup  # noqa: F401 (registers)
from apps.meetings.admin.meetings import contact_meetings_html

__all__ = ["contact_meetings_html"]
