"""The REST API under /api/: one router for every app's viewsets, the CRM webhook, and
the OpenAPI schema with its docs pages (assets from drf-spectacular-sidecar, no CDN)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from apps.accounts.api import AccountViewSet, ActivityViewSet
from apps.integrations.api import CrmWebhookView
from apps.people.api import ContactViewSet, RepViewSet

router = SimpleRouter(trailing_slash=True)
router.register("accounts", AccountViewSet, basename="account")
router.register("activities", ActivityViewSet, basename="activity")
router.register("contacts", ContactViewSet, basename="contact")
router.register("reps", RepViewSet, basename="rep")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("webhooks/crm/", CrmWebhookView.as_view(), name="webhook-crm"),
    *router.urls,
]
