"""The options of a <select>, written in one pass (templates/django/forms/widgets/select.html).

Django's select template includes one template per option, and that one another for the option's
attributes: a report's rep filter or an admin owner select of a few dozen reps cost two template
renders an option, several milliseconds of a page whose SQL takes as long (issue 17 item 6). The
markup is Django's own (select_option.html and attrs.html): the same escaping, the same boolean
attributes. An option with a template of its own is still rendered through it.
"""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict) -> str:
    # attrs.html: a False value is left out, True is written bare, anything else as name="value".
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items() if value is not False
    )


@register.simple_tag
def select_options(widget: dict) -> SafeString:
    out = []
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                out.append("\n  " + render_to_string(option["template_name"], {"widget": option}))
                continue
            out.append(f'\n  <option value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                       f'{conditional_escape(option["label"])}</option>')
        if group_name:
            out.append("\n  </optgroup>")
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above
