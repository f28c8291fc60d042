from django import template

from apps.cadences.selectors import lead_summary

register = template.Library()


@register.inclusion_tag("admin/cadences/_contact_lead_panel.html")
def lead_panel(contact):
    """The contact page's lead section: cycles, SLA status, cadence progress."""
    return {"summary": lead_summary(contact=contact), "contact": contact}
