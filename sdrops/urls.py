from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from sdrops.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("sdrops.api_urls")),
    path("healthz", healthz, name="healthz"),
]
