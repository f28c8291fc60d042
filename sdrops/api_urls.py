"""The REST API under /api/: one router for every app's viewsets, the CRM webhook, and
the OpenAPI schema with its docs pages (assets from drf-spectacular-sidecar, no CDN)."""

from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from apps.accounts.api import AccountViewSet, ActivityViewSet
from apps.cadences.api import FollowUpViewSet
from apps.campaigns.api import CampaignViewSet, QualificationCriterionViewSet
from apps.connect.api import OpportunityViewSet
from apps.icps.api import SignalTypeViewSet, SignalViewSet
from apps.integrations.api import CrmWebhookView
from apps.leads.api import DispositionReasonViewSet, LeadCycleViewSet
from apps.meetings.api import MeetingViewSet
from apps.people.api import ContactViewSet, RepViewSet
from apps.reporting.api import ReportIndexView, ReportView
from apps.routing.api import LeadViewSet, ReturnViewSet

router = SimpleRouter(trailing_slash=True)
router.register("accounts", AccountViewSet, basename="account")
router.register("activities", ActivityViewSet, basename="activity")
router.register("contacts", ContactViewSet, basename="contact")
router.register("reps", RepViewSet, basename="rep")
router.register("leads", LeadViewSet, basename="lead")
router.register("lead-cycles", LeadCycleViewSet, basename="lead-cycle")
router.register("disposition-reasons", DispositionReasonViewSet, basename="disposition-reason")
router.register("returns", ReturnViewSet, basename="return")
router.register("signals", SignalViewSet, basename="signal")
router.register("signal-types", SignalTypeViewSet, basename="signal-type")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("qualification-criteria", QualificationCriterionViewSet, basename="qualification-criterion")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")



@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Unknown /api/ paths answer in the API's error format, not the HTML 404 page."""
    return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)


app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a script file: it runs under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # No Redoc page: drf-spectacular starts it with an inline script (no CSP) and it fetched web
    # fonts; Swagger UI above shows the same schema from our own files under the policy.
    path("webhooks/crm/", CrmWebhookView.as_view(), name="webhook-crm"),
    path("reports/", ReportIndexView.as_view(), name="reports"),
    path("reports/<slug:slug>/", ReportView.as_view(), name="report"),
    *router.urls,
    re_path(r"^.*$", api_not_found),
]
