from django import template
from django.urls import reverse

from apps.connect.sso import sso_enabled

register = template.Library()


@register.inclusion_tag("connect/sso_login_link.html", takes_context=True)
def sso_login_link(context):
    request = context.get("request")
    next_url = request.GET.get("next", "") if request is not None else ""
    return {"enabled": sso_enabled(), "url": reverse("oidc_authentication_init"), "next": next_url}
