"""Browser-facing routes of the connections: OpenID Connect sign-on (and, below, feeds)."""

from django.urls import path
from mozilla_django_oidc.views import OIDCLogoutView

from apps.connect.sso import SsoCallbackView, SsoStartView
from apps.connect.views import calendar_feed_view, meeting_ics_view

urlpatterns = [
    path("oidc/authenticate/", SsoStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", SsoCallbackView.as_view(), name="oidc_authentication_callback"),
    path("oidc/logout/", OIDCLogoutView.as_view(), name="oidc_logout"),
    path("calendar/meetings/<int:meeting_id>.ics", meeting_ics_view, name="meeting_ics"),
    path("calendar/feed/<str:token>.ics", calendar_feed_view, name="calendar_feed"),
]
