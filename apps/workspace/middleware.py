"""Every request runs in the viewer's time zone, so pages, form input and the `when` filter
agree without each view remembering to switch (apps.people.timezones says whose zone)."""

from __future__ import annotations

from django.utils import timezone

from apps.people.timezones import user_zone


class ViewerTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        with timezone.override(user_zone(user)):
            response = self.get_response(request)
            # A TemplateResponse renders after the middleware returns: render it here, in the zone.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
