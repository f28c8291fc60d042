"""`{{ value|when }}` → "2026-12-01 15:00 EST" in the viewer's zone (active on every page);
`{{ value|when:"time" }}`, `{{ value|when:"long" }}`; `{% zone_label %}` names the active zone
next to a form field."""

from __future__ import annotations

from django import template
from django.utils import timezone

from apps.people.timezones import when as _when
from apps.people.timezones import zone_label as _zone_label

register = template.Library()


@register.filter
def when(value, style: str = "datetime") -> str:
    return _when(value, style=style)


@register.simple_tag
def zone_label() -> str:
    zone = timezone.get_current_timezone()
    short = _zone_label(timezone.now(), zone)
    key = getattr(zone, "key", str(zone))
    return short if short == key else f"{short} ({key})"
