from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from sdrops.admin_changelist import filter_choices, quick_result_list

register = template.Library()


@register.tag(name="quick_result_list")
def quick_result_list_tag(parser, token):
    """`{% quick_result_list cl %}`: Django's `{% result_list cl %}` with rows from
    sdrops.admin_changelist.quick_results, written by templates/admin/quick_change_list_results.html
    (Django's change_list_results.html whose row loop is one string; same markup)."""
    return InclusionAdminNode(
        parser, token, func=quick_result_list, template_name="quick_change_list_results.html", takes_context=False
    )


register.simple_tag(filter_choices, name="filter_choices")
