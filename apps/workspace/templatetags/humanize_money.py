from django import template

from apps.workspace.money import money as _money

register = template.Library()


@register.filter
def money(value) -> str:
    """{{ opportunity.amount|money }} → "$360,000"."""
    return _money(value)
